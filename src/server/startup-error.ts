// A configuration the gateway cannot start with, found while building it: the CLI prints the message
// and exits with the code (2: configuration, 3: a dependency it could not reach).

export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'StartupError';
  }
}

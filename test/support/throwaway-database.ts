// A throwaway database on the shared test Postgres (testEnv.databaseUrl): created with a random
// name, dropped (with force) when the test is done.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { testEnv } from './requirements.ts';

export interface ThrowawayDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: testEnv.databaseUrl as string });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export async function throwawayDatabase(prefix = 'cephgate_t'): Promise<ThrowawayDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = new URL(testEnv.databaseUrl as string);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

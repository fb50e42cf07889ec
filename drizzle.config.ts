// drizzle-kit configuration: `npx drizzle-kit generate` writes SQL migrations for src/db/schema.ts
// into drizzle/ (committed). Generation needs no database connection.

import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
});

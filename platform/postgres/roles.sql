-- Podium's database roles. Run once per cluster as a superuser:
--   psql -v app_password="'secret'" -f platform/postgres/roles.sql
-- The owner (the superuser running migrations) owns every table. The application role owns
-- nothing, cannot bypass row-level security, and gets table privileges from each migrate.
--
-- Run again at any time to repair the role's attributes. Without -v app_password an existing
-- role keeps its password (a new one gets none and cannot log in until one is set); with it,
-- the password is replaced.
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'podium_app') AS create_role \gset
\if :create_role
  CREATE ROLE podium_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT;
\endif
ALTER ROLE podium_app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT;
\if :{?app_password}
  ALTER ROLE podium_app WITH PASSWORD :app_password;
\endif

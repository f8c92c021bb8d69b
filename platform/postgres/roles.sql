-- Podium's database roles. Run once per cluster as a superuser:
--   psql -v app_password="'secret'" -f platform/postgres/roles.sql
-- The owner (the superuser running migrations) owns every table. The application role owns
-- nothing, cannot bypass row-level security, and gets table privileges from each migrate.
\if :{?app_password}
\else
  \set app_password NULL
\endif
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'podium_app') AS create_role \gset
\if :create_role
  CREATE ROLE podium_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT;
\endif
ALTER ROLE podium_app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :app_password;

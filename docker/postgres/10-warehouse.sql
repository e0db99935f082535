-- The warehouse gets its own database and role on the same PostgreSQL server as Airflow's metadata.
-- Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d); names and
-- the password come from the container environment (docker-compose.yaml, .env) through psql's \getenv.
\getenv wh_db WAREHOUSE_DB
\getenv wh_user WAREHOUSE_USER
\getenv wh_password WAREHOUSE_PASSWORD

create role :"wh_user" login password :'wh_password';
create database :"wh_db" owner :"wh_user";
revoke all on database :"wh_db" from public;
\connect :"wh_db"
alter schema public owner to :"wh_user";

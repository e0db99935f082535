"""Ground floor: the warehouse engine, migrations, bulk loads and the SQL runner."""

"""One module per revision, its SQL written out plain (execute_sql), or in a .sql file beside it."""

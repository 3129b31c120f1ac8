"""The developer stack behind `make run` and `make test`: embedded Postgres + Redis and a process runner."""

"""Django's PostgreSQL backend, with kept connections checked only after they sat idle."""

"""Background jobs run by RQ workers. Jobs take ids, never ORM objects."""

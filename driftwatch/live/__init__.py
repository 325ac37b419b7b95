"""A monitor's live state: rows shaped to its schema, the durable spool, windows with exact counts and a sample."""

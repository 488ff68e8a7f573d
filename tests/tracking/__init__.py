"""pddbatch track: events in, statuses, alerts, the live provider, the write-back."""

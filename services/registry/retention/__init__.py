"""Retention by outcome: removing personal data the registry no longer needs, on the record."""

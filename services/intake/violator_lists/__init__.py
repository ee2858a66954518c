"""Violator lists from Medical Teaching Institutions: each accepted row is an allegation that
opens a case for confirmation in review, never a verdict."""

"""Compliance: kill-switches now; consent, quiet hours, the 24h window and GDPR in later issues."""

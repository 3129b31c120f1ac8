"""Accounts: the email-login User, tenant roles and their permissions, sign-in and JWT."""

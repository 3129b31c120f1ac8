"""Tenants: the Tenant, memberships, the tenant context and row-level security."""

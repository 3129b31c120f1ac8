"""Tenants: the Tenant, memberships and invitations, the portal and API bases that resolve the
workspace of a request (tenants.portal_base, tenants.api_base), and the registries through which the
apps above add to the workspace admin (tenants.admin) and its sending state (tenants.sending_state).
The tenant context, TenantScopedModel and row-level security are in aerostic.core, the layer below."""

"""The bottom layer every app uses and that imports no app: the tenant context, TenantScopedModel and
row-level security, crypto and blind indexes, job shapes and queues, audit, logging, money, Meta's
payload values, bulk SQL helpers, the admin site and API basics."""

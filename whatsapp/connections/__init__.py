"""Connections to Meta: WhatsApp Business Accounts, their phone numbers and tokens (DESIGN §1).

`clients` (the Graph client of an account), `tokens` (inspect, health, rotation), `connect`
(sandbox, manual token, Embedded Signup), `numbers` (register, staff changes, disconnect),
`checks` (live connection checks), `onboarding` (Embedded Signup sessions and Meta's
PARTNER_APP_INSTALLED callback). Import from the module that holds what you need.
"""

"""Aerostic: a self-hostable WhatsApp Business SaaS (Django project package)."""

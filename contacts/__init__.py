"""Contacts: Contact (encrypted number + blind indexes, contacts.phones), attributes, lists, segments,
CSV import and export. The layer below compliance: the import records consent through a recorder
compliance registers (contacts.importing.consent), and the contact pages that touch consent or
GDPR live in compliance."""

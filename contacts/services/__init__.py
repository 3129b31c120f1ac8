"""Writes of contacts (people.py), of lists, segments and attributes (audiences.py), and the input
checks they share (cleaning.py). Import from here: `from contacts.services import contact_create`."""

from contacts.services.audiences import (
    attribute_define,
    clean_segment_filters,
    list_create,
    list_delete,
    list_members_add,
    list_members_remove,
    segment_delete,
    segment_save,
)
from contacts.services.cleaning import (
    MAX_TAG_LENGTH,
    MAX_TAGS,
    ContactInvalid,
    clean_attributes,
    clean_tags,
    coerce_attribute,
)
from contacts.services.people import (
    InboundSender,
    contact_create,
    contact_for_customer,
    contact_from_business_app,
    contact_phone_reveal,
    contact_update,
    contacts_for_customers,
)

__all__ = [
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "ContactInvalid",
    "InboundSender",
    "attribute_define",
    "clean_attributes",
    "clean_segment_filters",
    "clean_tags",
    "coerce_attribute",
    "contact_create",
    "contact_for_customer",
    "contact_from_business_app",
    "contact_phone_reveal",
    "contact_update",
    "contacts_for_customers",
    "list_create",
    "list_delete",
    "list_members_add",
    "list_members_remove",
    "segment_delete",
    "segment_save",
]

"""The contact pages compliance owns (compliance/contact_views.py). The project's URL map mounts
them under /contacts/ in the `contacts` namespace, beside contacts/urls.py, so their URLs and names
(`contacts:new`, `contacts:detail`, …) are those of every other contact page."""

from django.urls import path

from compliance import contact_views as views

urlpatterns = [
    path("new/", views.ContactCreateView.as_view(), name="new"),
    path("<int:contact_id>/", views.ContactDetailView.as_view(), name="detail"),
    path("<int:contact_id>/erase/", views.ContactEraseView.as_view(), name="erase"),
    path("<int:contact_id>/export.json", views.ContactDataExportView.as_view(), name="data-export"),
]

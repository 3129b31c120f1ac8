"""Portal routes under /contacts/ (the list itself is the portal's "Contacts" section). The project's
URL map adds compliance's contact pages (compliance/contact_urls.py: new, detail, erase, data
export) to the same `contacts` namespace."""

from django.urls import path

from contacts import views

app_name = "contacts"

urlpatterns = [
    path("", views.ContactListView.as_view(), name="index"),
    path("export.csv", views.ContactExportView.as_view(), name="export"),
    path("<int:contact_id>/reveal/", views.ContactRevealView.as_view(), name="reveal"),
    path("lists/", views.ListIndexView.as_view(), name="lists"),
    path("lists/add/", views.ListAddView.as_view(), name="list-add"),
    path("lists/<int:list_id>/", views.ListDetailView.as_view(), name="list-detail"),
    path("segments/", views.SegmentIndexView.as_view(), name="segments"),
    path("segments/<int:segment_id>/", views.SegmentDetailView.as_view(), name="segment-detail"),
    path("attributes/", views.AttributeIndexView.as_view(), name="attributes"),
    path("import/", views.ImportStartView.as_view(), name="import"),
    path("import/<int:import_id>/", views.ImportDetailView.as_view(), name="import-detail"),
    path("import/<int:import_id>/progress/", views.ImportProgressView.as_view(), name="import-progress"),
    path("import/<int:import_id>/errors.csv", views.ImportErrorsView.as_view(), name="import-errors"),
]

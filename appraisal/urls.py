from django.urls import path

from appraisal import evepraisal, views

urlpatterns = [
    path("appraisals/", views.appraisal_form, name="appraisals"),
    path("appraisals/<str:code>", views.appraisal_page, name="appraisal"),
    # evepraisal.com's API, for the tools built on it (appraisal/evepraisal.py)
    path("appraisal.json", evepraisal.appraisal_json, name="evepraisal-appraisal"),
    path("appraisal/structured.json", evepraisal.structured_json, name="evepraisal-structured"),
    path("a/<str:code>.json", evepraisal.stored_json, name="evepraisal-stored"),
]

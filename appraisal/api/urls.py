from django.urls import path

from appraisal.api import views

urlpatterns = [
    path("appraisals", views.AppraisalsView.as_view(), name="api-appraisals"),
    path("appraisals/<str:code>", views.AppraisalView.as_view(), name="api-appraisal"),
]

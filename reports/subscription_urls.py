from django.urls import path

from reports import views_subscriptions

app_name = "subscriptions"
urlpatterns = [
    path("", views_subscriptions.subscription_list, name="list"),
]

from django.contrib.auth import views as auth_views
from django.urls import path

from rapport.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/language/", views.change_language, name="account-language"),
    path("account/users/", views.user_list, name="user-list"),
    path("account/users/<int:user_id>/password/", views.user_password, name="user-password"),
]

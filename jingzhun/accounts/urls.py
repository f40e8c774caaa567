from django.contrib.auth import views as auth_views
from django.urls import path

from jingzhun.accounts import views
from jingzhun.core.access import logged_in, public

app_name = "accounts"
urlpatterns = [
    # LoginView is login_not_required (Django 5.1+); LogoutView accepts POST only, so a link cannot log out.
    path("login/", public(views.LoginView.as_view()), name="login"),
    path("logout/", logged_in(auth_views.LogoutView.as_view()), name="logout"),
    path("me/", views.my_account, name="my_account"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/password/", views.user_password, name="user_password"),
    path("users/<int:pk>/deactivate/", views.user_set_active, {"active": False}, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", views.user_set_active, {"active": True}, name="user_reactivate"),
    path("users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
]

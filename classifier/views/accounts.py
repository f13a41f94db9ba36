"""Sign-up. Log-in, log-out and password pages are Django's own views (see classifier.urls)."""
from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from classifier.forms import SignupForm


@sensitive_post_parameters("password1", "password2")
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        messages.success(request, f"Welcome, {user.username}! Upload some music to find out its genre.")
        return redirect("upload")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)

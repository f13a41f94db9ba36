"""The landing page. The library (`home`) is views.library."""
from django.shortcuts import redirect, render


def landing(request):
    if request.user.is_authenticated:
        return redirect("home")
    return render(request, "landing.html")

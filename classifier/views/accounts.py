"""Sign-up and log-in. Log-out and the password pages are Django's own views (see classifier.urls)."""
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from classifier.api.throttling import LoginFailureThrottle, readable_wait
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


class LoginView(auth_views.LoginView):
    """Django's login page, which stops checking passwords for a username from an address after
    too many failures there (LoginFailureThrottle) and answers 429 with Retry-After."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        self.throttle = LoginFailureThrottle(request, request.POST.get("username", ""))
        if (wait := self.throttle.retry_after()) is not None:
            # An unbound form: validating one would check the password we refuse to check.
            form = self.get_form_class()(request, initial={"username": request.POST.get("username", "")})
            refusal = (f"Too many failed attempts to log in as this user. Please wait {readable_wait(wait)} "
                       "and try again, or reset your password.")
            response = self.render_to_response(self.get_context_data(form=form, refusal=refusal), status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        self.throttle.record_failure()
        return super().form_invalid(form)

    def form_valid(self, form):
        self.throttle.reset()
        return super().form_valid(form)

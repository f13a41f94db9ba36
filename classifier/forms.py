"""Forms of the web pages. Upload files are read straight from request.FILES (see views.tracks)."""
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from classifier.services.catalogue import EDITABLE_NUMBERS


class SignupForm(UserCreationForm):
    # Required so that a forgotten password can be reset by email.
    email = forms.EmailField(
        label="Email",
        help_text="Only used to reset your password.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email


class TrackMetadataForm(forms.Form):
    """The tags an owner may edit on the track page; services.catalogue applies (and re-checks) them."""

    title = forms.CharField(max_length=255, required=False)
    artist = forms.CharField(max_length=255, required=False)
    album_artist = forms.CharField(label="Album artist", max_length=255, required=False,
                                   help_text="Leave empty when it is the track's artist.")
    album = forms.CharField(max_length=255, required=False)
    track_number = forms.IntegerField(label="Track", required=False, min_value=EDITABLE_NUMBERS["track_number"][0],
                                      max_value=EDITABLE_NUMBERS["track_number"][1])
    disc_number = forms.IntegerField(label="Disc", required=False, min_value=EDITABLE_NUMBERS["disc_number"][0],
                                     max_value=EDITABLE_NUMBERS["disc_number"][1])
    year = forms.IntegerField(required=False, min_value=EDITABLE_NUMBERS["year"][0],
                              max_value=EDITABLE_NUMBERS["year"][1])

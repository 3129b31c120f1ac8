"""Forms of the WhatsApp connection page."""

from django import forms


class ManualTokenForm(forms.Form):
    waba_id = forms.RegexField(
        regex=r"^\d{5,32}$",
        label="WhatsApp Business Account id",
        error_messages={"invalid": "A WABA id is the number shown in Meta's WhatsApp Manager."},
    )
    token = forms.CharField(
        label="System-user access token",
        widget=forms.PasswordInput(render_value=False),
        help_text="Needs whatsapp_business_messaging and whatsapp_business_management. "
        "Stored encrypted; never shown again.",
    )


class PinForm(forms.Form):
    pin = forms.RegexField(
        regex=r"^\d{6}$",
        label="Two-step verification PIN",
        max_length=6,
        error_messages={"invalid": "The PIN is 6 digits."},
    )


class EmbeddedSignupForm(forms.Form):
    code = forms.CharField(max_length=1024)
    waba_id = forms.RegexField(regex=r"^\d{5,32}$")
    phone_number_id = forms.RegexField(regex=r"^\d{5,32}$")
    pin = forms.RegexField(regex=r"^\d{6}$", error_messages={"invalid": "The PIN is 6 digits."})
    tracking_code = forms.CharField(max_length=64, required=False)
    business_id = forms.RegexField(regex=r"^\d{5,32}$", required=False)


class EmbeddedSignupSessionForm(forms.Form):
    """The session info Meta's Embedded Signup window hands the browser (its FINISH message)."""

    tracking_code = forms.CharField(max_length=64)
    waba_id = forms.RegexField(regex=r"^\d{5,32}$")
    phone_number_id = forms.RegexField(regex=r"^\d{5,32}$", required=False)
    business_id = forms.RegexField(regex=r"^\d{5,32}$", required=False)

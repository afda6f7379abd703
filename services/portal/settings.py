from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, env


class PortalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GECC_PORTAL_", extra="ignore")

    service_name: str = "portal"
    database_url: str = "postgresql://portal@127.0.0.1:5432/gecc"
    http_port: int = 8084
    # Where the portal reaches intake's HTTP API, and the credential it does so with for
    # the calls before anyone is signed in (sign-in requests and links); shared with intake.
    intake_url: str = "http://127.0.0.1:8080"
    client_secret: str = Field(
        "gecc-local-portal-secret", validation_alias=env("portal_client_secret")
    )
    # Where the portal reads a center's citizen survey (its live tally, its poster): the
    # survey service's API, with the shared read secret; and the survey's public address,
    # the one on the poster, shown to the center.
    survey_url: str = "http://127.0.0.1:8085"
    survey_read_secret: str = Field(
        "gecc-local-survey-read-secret", validation_alias=env("survey_read_secret")
    )
    survey_public_url: str = "http://127.0.0.1:8085"
    # The tally on a center's pages is renewed this often where the page's script runs.
    survey_refresh_seconds: int = Field(5, ge=1)
    # The address people open (in sign-in links); cookies are Secure unless it is loopback.
    public_url: str = "http://127.0.0.1:8084"
    # A form posted after its session or token expired is kept this long for that browser.
    kept_form_minutes: int = Field(30, ge=1)
    # A session once looked up is believed this long without asking the database again
    # (a sign-out in another portal process takes effect within it).
    session_recheck_seconds: float = Field(5.0, ge=0)
    # The page warns this long before the session ends.
    session_warning_minutes: int = Field(10, ge=1)
    # Sign-in requests per client address.
    sign_in_per_minute: int = Field(10, ge=1)
    sign_in_burst: int = Field(5, ge=1)

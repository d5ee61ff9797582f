from celery import shared_task

from accounts.models import User


@shared_task(acks_late=True, max_retries=3, default_retry_delay=60)
def send_invite(user_id: int, base_url: str) -> None:
    """E-mail a new account its set-password link. Sending twice is harmless."""
    from accounts.services import invite_send

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is not None:
        invite_send(user=user, base_url=base_url)

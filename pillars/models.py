from django.db import models
from django.utils.translation import gettext_lazy as _


class ProgrammeVariant(models.Model):
    """A version of the programme (Desmigratif with four pillars, Desa Migran Emas, ...).

    Pillars are data, not code: the programme changes and administrators configure it.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("programme variant")
        verbose_name_plural = _("programme variants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

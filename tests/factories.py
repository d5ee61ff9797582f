import factory

from accounts.models import Role, User
from pillars.models import ProgrammeVariant
from villages.models import Designation, Region


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    first_name = "Test"
    role = Role.VILLAGE_OFFICER
    password = factory.django.Password("test-password-123")


class RegionFactory(factory.django.DjangoModelFactory):
    """A village under an existing district; the code is made from the district's."""

    class Meta:
        model = Region
        django_get_or_create = ("code",)

    class Params:
        district = "35.07.11"

    code = factory.Sequence(lambda n: f"35.07.11.{3000 + n}")
    name = factory.Sequence(lambda n: f"Desa Uji {n}")
    level = Region.Level.VILLAGE
    parent_id = factory.LazyAttribute(lambda region: region.code.rsplit(".", 1)[0])
    introduced_in = "test"


class DesignationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Designation
        django_get_or_create = ("village",)

    village = factory.SubFactory(RegionFactory)
    cohort_year = 2019
    variant = factory.LazyFunction(lambda: ProgrammeVariant.objects.get(code="desmigratif-4-pilar"))

"""django-import-export's resource for the register, for the admin's export button.

It exports through the same rows as the register's export page (`spreadsheets`): scoped by
the admin's queryset (`for_user`), NIK and No. KK masked, cells escaped. Imports do not go
through it: its row-by-row path manages ~400 rows/s, the upload page's bulk path is ours.
"""

import tablib
from import_export import fields, resources

from migrants.columns import COLUMNS
from migrants.models import Person
from migrants.spreadsheets import export_header, iter_export_rows


class _RegisterResource(resources.ModelResource):
    class Meta:
        model = Person
        fields = tuple(column.key for column in COLUMNS)

    def export(self, queryset=None, export_fields=None, **kwargs) -> tablib.Dataset:
        chosen = set(export_fields or [column.key for column in COLUMNS])
        keep = [
            index
            for index, column in enumerate(COLUMNS)
            if column.key in chosen or column.header in chosen
        ]
        header = export_header()
        dataset = tablib.Dataset(headers=[header[index] for index in keep])
        if queryset is None:
            return dataset
        for row in iter_export_rows(queryset.select_related("village"), full_nik=False):
            dataset.append([row[index] for index in keep])
        return dataset


# One declared field per template column, so the admin's form offers them to choose from.
RegisterResource = type(
    "RegisterResource",
    (_RegisterResource,),
    {
        "__module__": __name__,
        "__doc__": "The register as the template's columns (masked, escaped, scoped).",
        **{
            column.key: fields.Field(attribute=column.key, column_name=column.header)
            for column in COLUMNS
        },
    },
)

#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desmigratif.settings")
    from django.core.management import execute_from_command_line

    from desmigratif import rls

    # Commands (migrations included) are run by operators: the whole country on the database.
    rls.set_process_scope(rls.NATIONAL)

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

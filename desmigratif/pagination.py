from dataclasses import dataclass


@dataclass
class Window:
    """A page of rows without a COUNT(*): at a million rows a count on every page is the
    slowest query of the page, and nobody reads "page 1 of 20,000"."""

    object_list: list
    number: int
    has_next: bool
    start: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def end(self) -> int:
        return self.start + len(self.object_list) - 1


def window(queryset, page: str | None, size: int, max_page: int = 10_000) -> Window:
    try:
        number = min(max(int(page or 1), 1), max_page)
    except ValueError:
        number = 1
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    return Window(
        object_list=rows[:size], number=number, has_next=len(rows) > size, start=offset + 1
    )

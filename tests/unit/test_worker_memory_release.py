"""A worker trims the C heap after a check only when it grew (``MemoryReleaser``): trimming
after every check made each small message fault its pages in again."""

from __future__ import annotations

import mmap

from gateway.milter.worker import TRIM_GROWTH, MemoryReleaser, resident_bytes

MIB = 1024 * 1024


class Sizes:
    def __init__(self, *values: int | None) -> None:
        self.values = list(values)
        self.trims = 0

    def resident(self) -> int | None:
        return self.values.pop(0) if len(self.values) > 1 else self.values[0]

    def trim(self) -> None:
        self.trims += 1


def test_no_trim_while_the_worker_does_not_grow():
    sizes = Sizes(100 * MIB, 101 * MIB, 99 * MIB, 100 * MIB, 106 * MIB)
    r = MemoryReleaser(8 * MIB, sizes.resident, sizes.trim)
    assert [r.after_check() for _ in range(4)] == [False] * 4
    assert sizes.trims == 0
    assert r.base == 99 * MIB  # growth counts from the lowest point since the last trim


def test_trim_once_the_worker_grew_then_from_the_size_after_it():
    sizes = Sizes(100 * MIB, 130 * MIB, 102 * MIB, 105 * MIB, 111 * MIB)
    r = MemoryReleaser(8 * MIB, sizes.resident, sizes.trim)
    assert r.after_check() is True  # 130 MiB: grown by 30
    assert sizes.trims == 1 and r.base == 102 * MIB
    assert r.after_check() is False  # 105: grown by 3 since the trim
    assert r.after_check() is True  # 111: grown by 9
    assert sizes.trims == 2


def test_trim_after_every_check_when_the_size_is_unknown():
    sizes = Sizes(None)
    r = MemoryReleaser(8 * MIB, sizes.resident, sizes.trim)
    assert [r.after_check() for _ in range(3)] == [True] * 3
    assert sizes.trims == 3


def test_resident_size_of_this_process_follows_an_allocation():
    before = resident_bytes()
    assert before is not None and before > MIB
    # fresh pages from the kernel: a bytearray could reuse heap pages already resident (a
    # long test run frees large blocks that glibc keeps), and the size would not move
    block = mmap.mmap(-1, 2 * TRIM_GROWTH)
    try:
        mapped = resident_bytes()  # mapped, not yet touched: not resident (VmSize would be)
        assert mapped is not None and mapped - before < TRIM_GROWTH
        for off in range(0, len(block), mmap.PAGESIZE):
            block[off] = 1
        after = resident_bytes()
        assert after is not None and after - before >= TRIM_GROWTH
    finally:
        block.close()


def test_a_large_message_trims_whatever_the_worker_grew():
    sizes = Sizes(100 * MIB, 107 * MIB, 101 * MIB, 104 * MIB)
    r = MemoryReleaser(8 * MIB, sizes.resident, sizes.trim)
    assert r.after_check(large=True) is True  # grown by 7 only, but the message was large
    assert sizes.trims == 1 and r.base == 101 * MIB
    assert r.after_check() is False  # 104: a small message, grown by 3
    assert sizes.trims == 1

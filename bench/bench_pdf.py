"""PDF costs and the seal detector's quality, as ratios against baselines run in the same process.

- classify: the layout classification of a 100-page scanned PDF (full-page JPEG images with an
  invisible OCR text layer, as scanners with OCR write them) against pdfminer.six extracting
  the text of the same file, each the best of its runs (target of issue 12: ≥ 25× faster);
- inspect: the whole PDF inspector on that file (classification, signature search, seal
  search on the last pages), for reference;
- seal: precision and recall of the seal detector on generated scans (seals of several sizes,
  faded, overlapped by the signature; red headings, red logos, urgency boxes, emblems);
- validate: the PDF inspector (every signature layer with the trust engine) on a signed
  ~10 MB PDF against ``pyhanko sign validate`` (the CLI, a new process) on the same file, and
  against pyHanko's validation in this process;
- long-term: the inspector on a B-LTA file (signature, signature timestamp, DSS, document
  timestamp) and on a B-LT file whose last cross-reference table must be rebuilt, each as a
  ratio to the same document signed at B-B.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench.timing import best_of
from gateway.inspect.base import InspectContext
from gateway.inspect.pdf import inspect_pdf, open_reader
from gateway.inspect.pdf.layout import classify
from gateway.inspect.pdf.seal import find_seals
from gateway.model.document import Document
from gateway.model.report import DocClass
from tests.pdfgen.build import scanned_pdf
from tests.pdfgen.scans import ScanSpec, page_image, seal_dataset


def _inspect(data: bytes, ctx: InspectContext) -> Any:
    return inspect_pdf(_doc(data), ctx)


def _doc(data: bytes) -> Document:
    return Document("scan.pdf", "scan.pdf", data, "application/pdf", "pdf", DocClass.NON_EDITABLE)


def bench_classify() -> None:
    from pdfminer.high_level import extract_text

    pages = [page_image(ScanSpec(seal=(i == 99), seed=i % 4), dpi=100) for i in range(4)]
    data = scanned_pdf([pages[i % 3] for i in range(99)] + [page_image(ScanSpec(seed=9), dpi=100)],
                       ocr=True)
    ours = best_of(lambda: classify(open_reader(data)), repeat=7)
    base = best_of(lambda: extract_text(io.BytesIO(data)), repeat=2)
    text = extract_text(io.BytesIO(data))
    kind = classify(open_reader(data)).kind
    print(f"   classify 100-page scan ({len(data) / 1e6:.1f} MB, layout {kind}): "
          f"{ours * 1000:.1f} ms; pdfminer.six extract_text: {base * 1000:.0f} ms "
          f"({len(text)} chars); ratio {base / ours:.1f}x (target >= 25x)")
    from tests.pki import NOW

    ctx = InspectContext(at=NOW)
    full = best_of(lambda: inspect_pdf(_doc(data), ctx))
    res = inspect_pdf(_doc(data), ctx)
    seal_pages = [s["page"] for s in res.facts.get("seal", [])]
    print(f"   whole inspector on it (layout + signatures + seal on last 3 pages): "
          f"{full * 1000:.0f} ms, seal found on page(s) {seal_pages}")


def bench_seal() -> None:
    tp = fp = fn = tn = 0
    misses = []
    t = time.perf_counter()
    data = seal_dataset()
    gen = time.perf_counter() - t
    t = time.perf_counter()
    for name, img, has in data:
        found = bool(find_seals(img, 1, 210, 297, 0.5))
        tp += found and has
        fp += found and not has
        fn += has and not found
        tn += not has and not found
        if found != has:
            misses.append(name)
    per = (time.perf_counter() - t) / len(data)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"   seal detector on {len(data)} generated pages ({tp + fn} with a seal, "
          f"{fp + tn} without): precision {precision:.2f}, recall {recall:.2f}; "
          f"{per * 1000:.0f} ms per page (generation {gen:.1f} s)"
          f"{'; wrong: ' + ', '.join(misses) if misses else ''}")


def bench_seal_pdf(dpis: tuple[int, ...] = (150, 300)) -> None:
    """The seal search as the PDF inspector runs it on the generated pages, each the JPEG
    image of a scanned PDF page, against a full decoding of the same JPEG (the baseline)."""

    from gateway.inspect.pdf import _seal_search, pdf_options
    from tests.pki import NOW

    opts = pdf_options(InspectContext(at=NOW))
    for dpi in dpis:
        tp = fp = fn = pages = 0
        ours = base = 0.0
        for _name, img, has in seal_dataset(dpi):
            jpeg = io.BytesIO()
            img.save(jpeg, "JPEG", quality=75)
            raw = jpeg.getvalue()
            lay = classify(open_reader(scanned_pdf([img], quality=75)))
            ours += best_of(partial(_seal_search, lay, opts), repeat=3)
            base += best_of(partial(_decode, raw), repeat=3)
            found = bool(_seal_search(lay, opts)["seal"])
            tp += found and has
            fp += found and not has
            fn += has and not found
            pages += 1
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        print(f"   seal search on {pages} PDF page images at {dpi} dpi (JPEG q75): precision "
              f"{precision:.2f}, recall {recall:.2f}; {ours / pages * 1000:.1f} ms per page, "
              f"a full decoding of the page image {base / pages * 1000:.1f} ms "
              f"(ratio {ours / base:.2f}x)")


def bench_mix_pdfs() -> None:
    """The PDFs of the Postfix benchmark's mix (``bench/mailcorpus.py``, same seed): scans of
    1–5 MB, signed born-digital PDFs, a scan padded to 10 MB. Per kind, the PDF inspector and
    the text inspector (its PDF text layer) per file, against baselines on the same files:
    pdfminer.six extracting the text, and a full decoding of the JPEG images of the pages the
    seal search looks at (the last three). Signatures are checked without a trust engine."""

    from bench import mailcorpus
    from gateway.demo import filler
    from gateway.inspect.text.inspector import inspect_text

    with tempfile.TemporaryDirectory() as tmp:
        g = mailcorpus.Gen(12, 1.0, mailcorpus.make_signer(Path(tmp) / "pki"))
        kinds = {
            "scan 1-5 MB": [g.scanned_pdf(g.size(1_000_000, 5_000_000)) for _ in range(6)],
            "signed PDF": [g.signed_pdf() for _ in range(4)],
            "padded 10 MB": [(lambda d: d + filler(10_000_000 - len(d)))(g.scanned_pdf(1))
                             for _ in range(2)],
        }
    ctx = InspectContext(at=datetime.now(UTC))
    for kind, files in kinds.items():
        pdf_t = text_t = miner = jpeg = 0.0
        images = 0
        for data in files:
            doc = _doc(data)
            pdf_t += best_of(partial(inspect_pdf, doc, ctx))
            text_t += best_of(partial(inspect_text, doc, ctx))
            miner += best_of(partial(_miner_text, data), repeat=1)
            jpeg += best_of(partial(_decode_last_pages, data))
            images += _decode_last_pages(data)
        n = len(files)
        line = (f"   mix {kind} ({n} files, {sum(map(len, files)) / n / 1e3:.0f} KB on average), "
                f"per file: PDF inspector {pdf_t / n * 1000:.1f} ms, text layer "
                f"{text_t / n * 1000:.1f} ms; pdfminer.six extract_text "
                f"{miner / n * 1000:.1f} ms (ratio to the text layer {miner / text_t:.1f}x)")
        if images:
            line += (f"; full decoding of the last pages' images {jpeg / n * 1000:.1f} ms "
                     f"(ratio of the PDF inspector to it {pdf_t / jpeg:.2f}x)")
        print(line)


def _decode(raw: bytes) -> None:
    """A full decoding of one page image (the seal search's baseline)."""
    from PIL import Image

    Image.open(io.BytesIO(raw)).load()


def _miner_text(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(data))


def _decode_last_pages(data: bytes, pages: int = 3) -> int:
    from PIL import Image

    from gateway.inspect.pdf.layout import resolve

    try:
        lay = classify(open_reader(data))
    except Exception:  # noqa: BLE001 - a file the reader refuses has no page images here
        return 0
    done = 0
    for page in lay.pages[-pages:]:
        for _area, ref in page.image_refs:
            Image.open(io.BytesIO(resolve(ref).encoded_data)).load()
            done += 1
    return done


def bench_validate() -> None:
    from gateway.trust import build_engine
    from tests.pdfgen.sign import sign
    from tests.pki import generate

    with tempfile.TemporaryDirectory() as tmp:
        pki = generate(Path(tmp) / "pki")
        img = page_image(ScanSpec(seed=3), dpi=150)
        data = b""
        n = 20
        while len(data) < 10_000_000 and n < 400:
            data = scanned_pdf([img] * n, quality=92)
            n = int(n * 10_000_000 / max(1, len(data))) + 2
        signed = sign(data, pki.leaf, pki.chain(pki.leaf))
        path = Path(tmp) / "signed.pdf"
        path.write_bytes(signed)
        engine = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir])
        ctx = InspectContext(at=pki.now, trust=engine)
        ours = best_of(lambda: inspect_pdf(_doc(signed), ctx), repeat=2)
        res = inspect_pdf(_doc(signed), ctx)
        s = res.signatures[0]

        import asyncio

        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature

        def in_process() -> None:
            r = PdfFileReader(io.BytesIO(signed))
            for emb in r.embedded_signatures:
                asyncio.run(async_validate_pdf_signature(emb, engine.validation_context(pki.now)))

        lib = best_of(in_process, repeat=2)
        cli = (shutil.which("pyhanko", path=str(Path(sys.executable).parent))
               or shutil.which("pyhanko"))
        line = (f"   validate signed PDF ({len(signed) / 1e6:.1f} MB, {n} pages): "
                f"inspector {ours * 1000:.0f} ms (integrity {s.integrity.value}, "
                f"trust {s.trust.value}, layout {res.facts['layout']}); "
                f"pyHanko in-process {lib * 1000:.0f} ms")
        if cli:
            root = pki.root.path
            cmd = [cli, "sign", "validate", "--no-revocation-check", "--trust", str(root),
                   "--validation-time", pki.now.isoformat(), str(path)]
            t = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            cli_t = time.perf_counter() - t
            verdict = (proc.stdout.strip().splitlines() or ["?"])[-1][:60]
            line += (f"; `pyhanko sign validate` CLI {cli_t * 1000:.0f} ms ({verdict}); "
                     f"ratio CLI/inspector {cli_t / ours:.1f}x")
        else:
            line += "; `pyhanko sign validate` not installed (pip install pyhanko-cli)"
        print(line)


def bench_long_term() -> None:
    from gateway.trust import build_engine
    from tests.pdfgen import damage, ltv
    from tests.pdfgen.build import born_digital_pdf
    from tests.pdfgen.sign import sign
    from tests.pki import generate

    with tempfile.TemporaryDirectory() as tmp:
        pki = generate(Path(tmp) / "pki")
        engine = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir])
        ctx = InspectContext(at=pki.now, trust=engine)
        base = born_digital_pdf(20)
        files = {
            "B-B": sign(base, pki.leaf, pki.chain(pki.leaf)),
            "B-LTA": ltv.sign_ltv(base, pki, "B-LTA"),
            "B-LT rebuilt xref": damage.swap_last_xref_offsets(ltv.sign_ltv(base, pki, "B-LT")),
        }
        times = {k: best_of(partial(_inspect, d, ctx), repeat=5) for k, d in files.items()}
        levels = {k: (inspect_pdf(_doc(d), ctx).facts["pdf_signatures"][0]["level"])
                  for k, d in files.items()}
        base_t = times["B-B"]
        print("   long-term PDFs (20 pages): " + "; ".join(
            f"{k} {t * 1000:.0f} ms (level {levels[k]}, ratio {t / base_t:.2f}x)"
            for k, t in times.items()))
    from gateway.inspect.pdf import repair

    scan = scanned_pdf([page_image(ScanSpec(seed=3), dpi=150)] * 100, quality=92)
    opens = {m: best_of(partial(repair.open_reader, scan, m), repeat=5) for m in repair.MODES}
    print(f"   opening a {len(scan) / 1e6:.1f} MB scan: " + "; ".join(
        f"{m} {t * 1000:.1f} ms" for m, t in opens.items())
        + " (tolerant and reconstructed include the scan for hidden object bodies)")


def main() -> None:
    from gateway.milter.worker import quiet_libraries

    quiet_libraries()  # as in the gateway's workers: pyHanko's warnings are not the figures
    bench_classify()
    bench_seal()
    bench_seal_pdf()
    bench_mix_pdfs()
    bench_validate()
    bench_long_term()


if __name__ == "__main__":
    main()

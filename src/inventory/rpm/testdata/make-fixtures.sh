#!/usr/bin/env bash
# Regenerates the rpm extractor's small test databases and their oracles (run by hand, not by the tests).
# Needs Debian's rpm 4.18 (rpm, rpmbuild), gpg, python3 and db5.3-util (db5.3_load, db5.3_stat):
#   apt-get install rpm gpg db5.3-util
# Outputs (committed):
#   built/rpmdb.sqlite      rpm --initdb + rpm -i --justdb of the packages built from specs/*.spec and one gpg-pubkey
#   built/expected.tsv      rpm -qa over that database (the oracle)
#   built/files.tsv         rpm -ql per package
#   built-le/Packages       the same headers in a Berkeley DB 5.3 hash file, little-endian, 4096-byte pages
#   built-be/Packages       ... big-endian, 512-byte pages (long overflow chains)
#   built-chksum/Packages   ... little-endian, 1024-byte pages, page checksums on (rpm's bdb_ro refuses checksummed
#                           files, so this one is checked with db5.3_dump only: same records as built-le)
#   mariner-be/Packages     12 real CBL-Mariner headers (the 11 smallest and the largest) re-stored big-endian,
#                           512-byte pages; oracle mariner-be/expected.tsv from rpm's bdb_ro backend
#   inline/Packages         three hand-made minimal headers, two small enough to sit on the hash page (H_KEYDATA);
#                           oracle inline/expected.tsv from rpm's bdb_ro backend
#   mariner-expected.tsv    rpm -qa over the shared CBL-Mariner fixture, with vendor, license, size, modularity label
#   mariner-files.count-sha256   line count and SHA-256 of its sorted "name<TAB>/path" rpm -ql listing
#   rhel-libuuid-*.txt/tsv  rpm -qa / rpm -ql over the shared RHEL 8.8 libuuid Berkeley DB fixture
# Each BDB file is read back by rpm itself (bdb_ro backend) and must list exactly what the sqlite oracle lists.
# Not generated here: sle15-bci-go-rpmdb.tsv, the oracle for the shared SLES NDB fixture (see its header).
# Re-running changes built/* (a new gpg key each time) but keeps every oracle consistent with its database.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
qf='%{NAME}\t%|EPOCH?{%{EPOCH}}:{}|\t%{VERSION}\t%{RELEASE}\t%|ARCH?{%{ARCH}}:{}|\t%|SOURCERPM?{%{SOURCERPM}}:{}|\t%|VENDOR?{%{VENDOR}}:{}|\t%|LICENSE?{%{LICENSE}}:{}|\t%|SIZE?{%{SIZE}}:{}|\t%|MODULARITYLABEL?{%{MODULARITYLABEL}}:{}|\n'
header='name\tepoch\tversion\trelease\tarch\tsourcerpm\tvendor\tlicense\tsize\tmodularitylabel'

# 1. build the packages
mkdir -p "$work/top"
for spec in "$here"/specs/*.spec; do
  extra=()
  case "$(basename "$spec")" in
    shipshape-zero-epoch.spec) extra=(--define 'modularitylabel shipshape:2.0:8040020210101:abcd1234') ;;
  esac
  rpmbuild -bb --quiet --define "_topdir $work/top" --define '_build_id_links none' "${extra[@]}" "$spec" >/dev/null
done

# 2. install them into a fresh sqlite rpmdb, plus a gpg-pubkey pseudo-package
db="$work/db"
rpm --initdb --dbpath "$db"
rpm --dbpath "$db" -i --justdb --nodeps --noscripts --nosignature --ignorearch --ignoreos "$work"/top/RPMS/*/*.rpm
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'Shipshape Test <test@shipshape.invalid>' rsa2048 sign never 2>/dev/null
gpg --batch --armor --export test@shipshape.invalid > "$work/key.asc"
rpm --dbpath "$db" --import "$work/key.asc"
rpm --dbpath "$db" --rebuilddb   # checkpoints the WAL into the main file
mkdir -p "$here/built"
cp "$db/rpmdb.sqlite" "$here/built/rpmdb.sqlite"
{ printf "$header\n"; rpm --dbpath "$db" -qa --qf "$qf" | LC_ALL=C sort; } > "$here/built/expected.tsv"
{ printf 'name\tfile\n'; for n in $(rpm --dbpath "$db" -qa --qf '%{NAME}\n' | LC_ALL=C sort); do
    [ "$n" = gpg-pubkey ] && continue
    rpm --dbpath "$db" -q --qf '[%{=NAME}\t%{FILENAMES}\n]' "$n" | grep -v "(none)$" || true
  done; } > "$here/built/files.tsv"

# 3. the same headers in Berkeley DB hash files (key = header number in the file's byte order)
to_bdb() { # sqlite-file out-dir byteorder(1234|4321) pagesize chksum(0|1) [hnum-filter-sql]
  local src=$1 out=$2 order=$3 psize=$4 chk=$5 filter=${6:-}
  mkdir -p "$out"
  rm -f "$out/Packages"
  python3 - "$src" "$order" "$psize" "$filter" > "$work/dump.txt" <<'PY'
import shutil, sqlite3, struct, sys, tempfile, os
src, order, psize, filt = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
tmp = tempfile.mkdtemp()
shutil.copy(src, os.path.join(tmp, "rpmdb.sqlite"))
con = sqlite3.connect(os.path.join(tmp, "rpmdb.sqlite"))
rows = con.execute("SELECT hnum, blob FROM Packages " + (("WHERE " + filt) if filt else "") + " ORDER BY hnum").fetchall()
fmt = "<I" if order == "1234" else ">I"
print("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=%s\nHEADER=END" % psize)
# rpm keeps the next free header number under key 0
print(" " + struct.pack(fmt, 0).hex()); print(" " + struct.pack(fmt, max(r[0] for r in rows) + 1).hex())
for hnum, blob in rows:
    print(" " + struct.pack(fmt, hnum).hex()); print(" " + bytes(blob).hex())
print("DATA=END")
PY
  db5.3_load -c db_lorder="$order" -c chksum="$chk" -f "$work/dump.txt" "$out/Packages"
}
check_bdb() { # bdb-dir expected-tsv
  local d="$work/check"; rm -rf "$d"; mkdir -p "$d"; cp "$1/Packages" "$d/"
  diff <(printf "$header\n"; rpm --dbpath "$d" --define '_db_backend bdb_ro' -qa --qf "$qf" 2> >(grep -v "could not open" >&2) | LC_ALL=C sort) "$2"
}
to_bdb "$here/built/rpmdb.sqlite" "$here/built-le" 1234 4096 0
to_bdb "$here/built/rpmdb.sqlite" "$here/built-be" 4321 512 0
to_bdb "$here/built/rpmdb.sqlite" "$here/built-chksum" 1234 1024 1
check_bdb "$here/built-le" "$here/built/expected.tsv"
check_bdb "$here/built-be" "$here/built/expected.tsv"
diff <(db5.3_dump -p "$here/built-le/Packages" | sed 1,/HEADER=END/d) <(db5.3_dump -p "$here/built-chksum/Packages" | sed 1,/HEADER=END/d)

mariner=${MARINER_RPMDB:-/work/shared/fixtures/pkgdb/cbl-mariner-2.0/var/lib/rpm/rpmdb.sqlite}
to_bdb "$mariner" "$here/mariner-be" 4321 512 0 \
  "hnum IN (SELECT hnum FROM Packages ORDER BY length(blob) LIMIT 11) OR hnum = (SELECT hnum FROM Packages ORDER BY length(blob) DESC LIMIT 1)"
d="$work/mcheck"; mkdir -p "$d"; cp "$here/mariner-be/Packages" "$d/"
{ printf "$header\n"; rpm --dbpath "$d" --define '_db_backend bdb_ro' -qa --qf "$qf" 2> >(grep -v "could not open" >&2) | LC_ALL=C sort; } > "$here/mariner-be/expected.tsv"
db5.3_stat -d "$here/mariner-be/Packages" | grep -E 'Byte order|page size|overflow pages$'


# 4. a fuller oracle for the shared CBL-Mariner fixture (the shared expected-packages.tsv lacks vendor, license,
#    size and modularity label) and a digest of its file lists (too large to commit as text)
d="$work/mariner"; mkdir -p "$d"; cp "$mariner" "$d/rpmdb.sqlite"
{ printf "$header\n"; rpm --dbpath "$d" -qa --qf "$qf" | LC_ALL=C sort; } > "$here/mariner-expected.tsv"
rpm --dbpath "$d" -qa --qf '[%{=NAME}\t%{FILENAMES}\n]' | grep -v '(none)$' | LC_ALL=C sort > "$work/mfiles.tsv"
printf '%s\t%s\n' "$(wc -l < "$work/mfiles.tsv")" "$(sha256sum < "$work/mfiles.tsv" | cut -d' ' -f1)" > "$here/mariner-files.count-sha256"

# 5. a Berkeley DB file whose small headers sit on the hash page itself (H_KEYDATA items, no overflow pages),
#    next to one overflow item; hand-made minimal headers (NAME, VERSION, RELEASE, ARCH) read back by rpm
python3 - "$work/inline.txt" <<'PY'
import struct, sys
def header(fields):
    # region entries are (tag, STRING) sorted by tag; region tag 63 first, trailer after the data
    data = b""; index = []
    for tag, value in fields:
        index.append((tag, 6, len(data), 1)); data += value.encode() + b"\0"
    ril = len(index) + 1
    index.insert(0, (63, 7, len(data), 16))
    data += struct.pack(">iiiI", 63, 7, -ril * 16, 16)
    out = struct.pack(">II", len(index), len(data))
    for t, ty, off, cnt in index: out += struct.pack(">iIiI", t, ty, off, cnt)
    return out + data
rows = [(1, header([(1000, "tiny"), (1001, "1.0"), (1002, "1"), (1022, "noarch")])),
        (2, header([(1000, "small"), (1001, "2.0"), (1002, "3.el9"), (1022, "x86_64")])),
        (3, header([(1000, "padded"), (1001, "3"), (1002, "1"), (1004, "x" * 3000), (1022, "noarch")]))]
with open(sys.argv[1], "w") as f:
    f.write("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=4096\nHEADER=END\n")
    f.write(" %s\n %s\n" % (struct.pack("<I", 0).hex(), struct.pack("<I", 4).hex()))
    for k, v in rows: f.write(" %s\n %s\n" % (struct.pack("<I", k).hex(), v.hex()))
    f.write("DATA=END\n")
PY
mkdir -p "$here/inline"; rm -f "$here/inline/Packages"
db5.3_load -c db_lorder=1234 -f "$work/inline.txt" "$here/inline/Packages"
d="$work/icheck"; mkdir -p "$d"; cp "$here/inline/Packages" "$d/"
rpm --dbpath "$d" --define '_db_backend bdb_ro' -qa --qf '%{NAME}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n' 2> >(grep -v "could not open" >&2) \
  | LC_ALL=C sort > "$here/inline/expected.tsv"

# 6. the file list of the shared RHEL 8.8 libuuid Berkeley DB fixture, from rpm's bdb_ro backend
rhel=${RHEL_RPMDB:-/work/shared/fixtures/pkgdb/rhel-8.8-libuuid-only/var/lib/rpm/Packages}
d="$work/rhel"; mkdir -p "$d"; cp "$rhel" "$d/Packages"
rpm --dbpath "$d" --define '_db_backend bdb_ro' -qa --qf '[%{FILENAMES}\n]' 2> >(grep -v "could not open" >&2) > "$here/rhel-libuuid-files.txt"
{ printf "$header\n"; rpm --dbpath "$d" --define '_db_backend bdb_ro' -qa --qf "$qf" 2> >(grep -v "could not open" >&2); } > "$here/rhel-libuuid-expected.tsv"
echo "fixtures written under $here"

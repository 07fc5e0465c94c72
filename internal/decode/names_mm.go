package decode

import "strconv"

var (
	mmapProtAMD64 = []sym{
		{0x1, "PROT_READ"},
		{0x2, "PROT_WRITE"},
		{0x4, "PROT_EXEC"},
		{0x8, "PROT_SEM"},
		{0x01000000, "PROT_GROWSDOWN"},
		{0x02000000, "PROT_GROWSUP"},
	}
	// arch/arm64/include/uapi/asm/mman.h adds the branch-target and memory-tagging bits.
	mmapProtARM64 = []sym{
		{0x1, "PROT_READ"},
		{0x2, "PROT_WRITE"},
		{0x4, "PROT_EXEC"},
		{0x8, "PROT_SEM"},
		{0x10, "PROT_BTI"},
		{0x20, "PROT_MTE"},
		{0x01000000, "PROT_GROWSDOWN"},
		{0x02000000, "PROT_GROWSUP"},
	}
)

// MmapProt formats mmap/mprotect protection bits; 0 is PROT_NONE.
func MmapProt(arch string, v uint64) string {
	tab := mmapProtAMD64
	if isARM64(arch) {
		tab = mmapProtARM64
	}
	return nameFlags(v, tab, "PROT_NONE")
}

const (
	mapType      = 0xf
	mapHugeShift = 26
	mapHugeMask  = 0x3f << mapHugeShift
)

var (
	mapTypes = []sym{
		{0x0, "MAP_FILE"},
		{0x1, "MAP_SHARED"},
		{0x2, "MAP_PRIVATE"},
		{0x3, "MAP_SHARED_VALIDATE"},
		{0x8, "MAP_DROPPABLE"},
	}
	mmapFlagsARM64 = mmapFlagTab(nil)
	// MAP_32BIT and MAP_ABOVE4G exist only on x86.
	mmapFlagsAMD64 = mmapFlagTab([]sym{{0x40, "MAP_32BIT"}, {0x80, "MAP_ABOVE4G"}})
)

// mmapFlagTab lists the MAP_* flags (asm-generic/mman*.h) in strace's order.
func mmapFlagTab(x86 []sym) []sym {
	tab := []sym{{0x10, "MAP_FIXED"}, {0x20, "MAP_ANONYMOUS"}}
	tab = append(tab, x86...)
	return append(tab,
		sym{0x4000, "MAP_NORESERVE"},
		sym{0x8000, "MAP_POPULATE"},
		sym{0x10000, "MAP_NONBLOCK"},
		sym{0x100, "MAP_GROWSDOWN"},
		sym{0x800, "MAP_DENYWRITE"},
		sym{0x1000, "MAP_EXECUTABLE"},
		sym{0x2000, "MAP_LOCKED"},
		sym{0x20000, "MAP_STACK"},
		sym{0x40000, "MAP_HUGETLB"},
		sym{0x80000, "MAP_SYNC"},
		sym{0x100000, "MAP_FIXED_NOREPLACE"},
	)
}

// MmapFlags formats mmap flags as strace does: the mapping type first (MAP_FILE when 0), then
// the flags, then a hugetlb page size as "N<<MAP_HUGE_SHIFT".
func MmapFlags(arch string, v uint64) string {
	tab := mmapFlagsAMD64
	if isARM64(arch) {
		tab = mmapFlagsARM64
	}
	var j joiner
	j.add(nameEnum(v&mapType, mapTypes))
	rest := j.addFlags(v&^(mapType|mapHugeMask), tab)
	if rest != 0 {
		j.addHex(rest)
	}
	if huge := (v & mapHugeMask) >> mapHugeShift; huge != 0 {
		j.add(strconv.FormatUint(huge, 10) + "<<MAP_HUGE_SHIFT")
	}
	return j.String()
}

var mremapFlags = []sym{
	{0x1, "MREMAP_MAYMOVE"},
	{0x2, "MREMAP_FIXED"},
	{0x4, "MREMAP_DONTUNMAP"},
}

// MremapFlags formats mremap flags.
func MremapFlags(v uint64) string {
	return nameFlags(v, mremapFlags, "0")
}

var msyncFlags = []sym{
	{0x1, "MS_ASYNC"},
	{0x2, "MS_INVALIDATE"},
	{0x4, "MS_SYNC"},
}

// MsyncFlags formats msync flags.
func MsyncFlags(v uint64) string {
	return nameFlags(uint64(uint32(v)), msyncFlags, "0")
}

// madviseNames advice, asm-generic/mman-common.h (amd64 and arm64 agree).
var madviseNames = []sym{
	{0, "MADV_NORMAL"},
	{1, "MADV_RANDOM"},
	{2, "MADV_SEQUENTIAL"},
	{3, "MADV_WILLNEED"},
	{4, "MADV_DONTNEED"},
	{8, "MADV_FREE"},
	{9, "MADV_REMOVE"},
	{10, "MADV_DONTFORK"},
	{11, "MADV_DOFORK"},
	{12, "MADV_MERGEABLE"},
	{13, "MADV_UNMERGEABLE"},
	{14, "MADV_HUGEPAGE"},
	{15, "MADV_NOHUGEPAGE"},
	{16, "MADV_DONTDUMP"},
	{17, "MADV_DODUMP"},
	{18, "MADV_WIPEONFORK"},
	{19, "MADV_KEEPONFORK"},
	{20, "MADV_COLD"},
	{21, "MADV_PAGEOUT"},
	{22, "MADV_POPULATE_READ"},
	{23, "MADV_POPULATE_WRITE"},
	{24, "MADV_DONTNEED_LOCKED"},
	{25, "MADV_COLLAPSE"},
	{100, "MADV_HWPOISON"},
	{101, "MADV_SOFT_OFFLINE"},
	{102, "MADV_GUARD_INSTALL"},
	{103, "MADV_GUARD_REMOVE"},
}

// Madvise names madviseNames advice.
func Madvise(v uint64) string {
	if s, ok := lookupSym(uint64(uint32(v)), madviseNames); ok {
		return s
	}
	return hex(uint64(uint32(v))) + " /* MADV_??? */" // as strace marks advice it does not know
}

// posix_fadvise advice; DONTNEED and NOREUSE are 6 and 7 only on s390x.
var fadviseNames = []string{
	"POSIX_FADV_NORMAL", "POSIX_FADV_RANDOM", "POSIX_FADV_SEQUENTIAL", "POSIX_FADV_WILLNEED",
	"POSIX_FADV_DONTNEED", "POSIX_FADV_NOREUSE",
}

// Fadvise names fadvise64 advice.
func Fadvise(v uint64) string {
	return nameIndexed(uint64(uint32(v)), fadviseNames)
}

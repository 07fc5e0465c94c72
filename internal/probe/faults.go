package probe

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/internal/tracefs"
)

// PageFaultsID is the kernel-event id of user page faults taken from the software perf event
// (IOT_KEV_ID_PAGE_FAULTS in bpf/iotrace.h); PageFaultsName is the name they are shown under,
// perf's own ("perf record -e page-faults").
const (
	PageFaultsID   = 0xffff
	PageFaultsName = "page-faults"
)

// pageFaultsFormat describes the records the page_fault program writes: page_fault_user's
// fields without error_code (a perf sample does not say whether the access was a write).
var pageFaultsFormat = &tracefs.EventFormat{ID: PageFaultsID, Fields: []tracefs.FormatField{
	{Name: "common_type", Type: "unsigned short", Offset: 0, Size: 2},
	{Name: "address", Type: "unsigned long", Offset: 8, Size: 8},
	{Name: "ip", Type: "unsigned long", Offset: 16, Size: 8},
}}

// PerfFaultsForced makes iotrace take user page faults from the perf event even where
// exceptions:page_fault_user exists (IOTRACE_PAGE_FAULTS=perf): how the arm64 path is tested
// on x86.
func PerfFaultsForced() bool { return os.Getenv("IOTRACE_PAGE_FAULTS") == "perf" }

// PerfFaultsLesson says what the perf-event source of faults gives and lacks.
const PerfFaultsLesson = "user page faults come from the software perf event page-faults instead (address and ip; not whether the access was a write)"

// attachPerfFaults opens the software page-fault event on every CPU, one sample per fault, and
// runs the page_fault program on each sample. The event counts every task's faults: the program
// keeps the traced tree's.
func (s *Set) attachPerfFaults() error {
	attr := unix.PerfEventAttr{
		Type:        unix.PERF_TYPE_SOFTWARE,
		Config:      unix.PERF_COUNT_SW_PAGE_FAULTS,
		Size:        uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Sample:      1,
		Sample_type: unix.PERF_SAMPLE_ADDR,
		Bits:        unix.PerfBitDisabled,
	}
	prog := s.objs.PageFault.FD()
	for cpu := range possibleCPUs() {
		fd, err := unix.PerfEventOpen(&attr, -1, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOENT) {
			continue // a possible CPU that is not online
		}
		if err != nil {
			return attachError(fmt.Sprintf("the page-faults perf event on CPU %d", cpu), err)
		}
		s.perfFDs = append(s.perfFDs, fd)
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog); err != nil {
			return fmt.Errorf("attach page_fault to the page-faults perf event: %w", err)
		}
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
			return fmt.Errorf("enable the page-faults perf event: %w", err)
		}
	}
	if len(s.perfFDs) == 0 {
		return errors.New("open the page-faults perf event: no CPU accepted it")
	}
	s.Kernel[PageFaultsID] = KernelFormat{Name: PageFaultsName, Format: pageFaultsFormat}
	return nil
}

// possibleCPUs is how many CPU numbers may exist (/sys/devices/system/cpu/possible, "0-N").
func possibleCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err == nil {
		var lo, hi int
		if n, _ := fmt.Sscanf(string(b), "%d-%d", &lo, &hi); n == 2 {
			return hi + 1
		}
		if n, _ := fmt.Sscanf(string(b), "%d", &lo); n == 1 {
			return lo + 1
		}
	}
	return runtime.NumCPU()
}

// closePerf closes the perf events, which detaches the program from them.
func (s *Set) closePerf() {
	for _, fd := range s.perfFDs {
		unix.Close(fd)
	}
	s.perfFDs = nil
}

package decode

import "testing"

// Recorded from strace 6.1 (x86_64): the file was read by `strace -e trace=read -s 1024 cat FILE`
// and the quoted buffer copied without its quotes.
var straceReadFixtures = []struct {
	in   string
	want string
}{
	{"a\tb\x01\n\x001\x009\xffx\"\\\v\f\r\x1b[0m\x7f7", "a\\tb\\1\\n\\0001\\09\\377x\\\"\\\\\\v\\f\\r\\33[0m\\1777"},
	{"\x00\x01\x02\x03\x04\x05\x06\a\b\t\n\v\f\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xdb\xdc\xdd\xde\xdf\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff", "\\0\\1\\2\\3\\4\\5\\6\\7\\10\\t\\n\\v\\f\\r\\16\\17\\20\\21\\22\\23\\24\\25\\26\\27\\30\\31\\32\\33\\34\\35\\36\\37 !\\\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\\177\\200\\201\\202\\203\\204\\205\\206\\207\\210\\211\\212\\213\\214\\215\\216\\217\\220\\221\\222\\223\\224\\225\\226\\227\\230\\231\\232\\233\\234\\235\\236\\237\\240\\241\\242\\243\\244\\245\\246\\247\\250\\251\\252\\253\\254\\255\\256\\257\\260\\261\\262\\263\\264\\265\\266\\267\\270\\271\\272\\273\\274\\275\\276\\277\\300\\301\\302\\303\\304\\305\\306\\307\\310\\311\\312\\313\\314\\315\\316\\317\\320\\321\\322\\323\\324\\325\\326\\327\\330\\331\\332\\333\\334\\335\\336\\337\\340\\341\\342\\343\\344\\345\\346\\347\\350\\351\\352\\353\\354\\355\\356\\357\\360\\361\\362\\363\\364\\365\\366\\367\\370\\371\\372\\373\\374\\375\\376\\377"},
	{"\x000\x011\x022\x033\x044\x055\x066\a7\b8\t9\n0\v1\f2\r3\x0e4\x0f5\x106\x117\x128\x139\x140\x151\x162\x173\x184\x195\x1a6\x1b7\x1c8\x1d9\x1e0\x1f1 2!3\"4#5$6%7&8'9(0)1*2+3,4-5.6/708192031425364758697:8;9<0=1>2?3@4A5B6C7D8E9F0G1H2I3J4K5L6M7N8O9P0Q1R2S3T4U5V6W7X8Y9Z0[1\\2]3^4_5`6a7b8c9d0e1f2g3h4i5j6k7l8m9n0o1p2q3r4s5t6u7v8w9x0y1z2{3|4}5~6\x7f7\x808\x819\x820\x831\x842\x853\x864\x875\x886\x897\x8a8\x8b9\x8c0\x8d1\x8e2\x8f3\x904\x915\x926\x937\x948\x959\x960\x971\x982\x993\x9a4\x9b5\x9c6\x9d7\x9e8\x9f9\xa00\xa11\xa22\xa33\xa44\xa55\xa66\xa77\xa88\xa99\xaa0\xab1\xac2\xad3\xae4\xaf5\xb06\xb17\xb28\xb39\xb40\xb51\xb62\xb73\xb84\xb95\xba6\xbb7\xbc8\xbd9\xbe0\xbf1\xc02\xc13\xc24\xc35\xc46\xc57\xc68\xc79\xc80\xc91\xca2\xcb3\xcc4\xcd5\xce6\xcf7\xd08\xd19\xd20\xd31\xd42\xd53\xd64\xd75\xd86\xd97\xda8\xdb9\xdc0\xdd1\xde2\xdf3\xe04\xe15\xe26\xe37\xe48\xe59\xe60\xe71\xe82\xe93\xea4\xeb5\xec6\xed7\xee8\xef9\xf00\xf11\xf22\xf33\xf44\xf55\xf66\xf77\xf88\xf99\xfa0\xfb1\xfc2\xfd3\xfe4\xff5", "\\0000\\0011\\0022\\0033\\0044\\0055\\0066\\0077\\108\\t9\\n0\\v1\\f2\\r3\\0164\\0175\\0206\\0217\\228\\239\\0240\\0251\\0262\\0273\\0304\\0315\\0326\\0337\\348\\359\\0360\\0371 2!3\\\"4#5$6%7&8'9(0)1*2+3,4-5.6/708192031425364758697:8;9<0=1>2?3@4A5B6C7D8E9F0G1H2I3J4K5L6M7N8O9P0Q1R2S3T4U5V6W7X8Y9Z0[1\\\\2]3^4_5`6a7b8c9d0e1f2g3h4i5j6k7l8m9n0o1p2q3r4s5t6u7v8w9x0y1z2{3|4}5~6\\1777\\2008\\2019\\2020\\2031\\2042\\2053\\2064\\2075\\2106\\2117\\2128\\2139\\2140\\2151\\2162\\2173\\2204\\2215\\2226\\2237\\2248\\2259\\2260\\2271\\2302\\2313\\2324\\2335\\2346\\2357\\2368\\2379\\2400\\2411\\2422\\2433\\2444\\2455\\2466\\2477\\2508\\2519\\2520\\2531\\2542\\2553\\2564\\2575\\2606\\2617\\2628\\2639\\2640\\2651\\2662\\2673\\2704\\2715\\2726\\2737\\2748\\2759\\2760\\2771\\3002\\3013\\3024\\3035\\3046\\3057\\3068\\3079\\3100\\3111\\3122\\3133\\3144\\3155\\3166\\3177\\3208\\3219\\3220\\3231\\3242\\3253\\3264\\3275\\3306\\3317\\3328\\3339\\3340\\3351\\3362\\3373\\3404\\3415\\3426\\3437\\3448\\3459\\3460\\3471\\3502\\3513\\3524\\3535\\3546\\3557\\3568\\3579\\3600\\3611\\3622\\3633\\3644\\3655\\3666\\3677\\3708\\3719\\3720\\3731\\3742\\3753\\3764\\3775"},
	{"héllo ✓\n", "h\\303\\251llo \\342\\234\\223\\n"},
}

func TestEscapeBytesMatchesStrace(t *testing.T) {
	for _, tt := range straceReadFixtures {
		if got := EscapeBytes([]byte(tt.in)); got != tt.want {
			t.Errorf("EscapeBytes(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestEscapeString(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		// strace 6.1: openat(AT_FDCWD, "/tmp/we\tird\n\"n\\ame\0017", ...)
		{"/tmp/we\tird\n\"n\\ame\x017", `/tmp/we\tird\n\"n\\ame\0017`},
		{"plain/path.txt", "plain/path.txt"},
		{"", ""},
		{"\x00", `\0`},
		{"\x008", `\08`}, // 8 and 9 are not octal digits
		{"\x007", `\0007`},
		{"\x1b7", `\0337`},
		{"\x1b", `\33`},
		{"\xff", `\377`},
		{"~\x7f", `~\177`},
	}
	for _, tt := range tests {
		if got := EscapeString(tt.in); got != tt.want {
			t.Errorf("EscapeString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if got := EscapeBytes([]byte(tt.in)); got != tt.want {
			t.Errorf("EscapeBytes(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestEscapeStringNoAllocWhenPlain(t *testing.T) {
	s := "/usr/lib/x86_64-linux-gnu/libc.so.6"
	if n := testing.AllocsPerRun(100, func() { _ = EscapeString(s) }); n != 0 {
		t.Errorf("EscapeString of a plain string allocates %v times", n)
	}
}

package importers

import (
	"strings"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
	"golang.org/x/text/encoding/charmap"
)

// Decoder turns the bytes of a DBF (or CSV) text field into UTF-8.
type Decoder struct {
	Name  string // canonical name: UTF-8, CP1251, CP866, KOI8-R, ISO-8859-1, PT154, …
	table *[128]rune
}

// Decode returns s as UTF-8. Invalid UTF-8 in a UTF-8 source becomes U+FFFD, so that PostgreSQL
// never sees a broken string.
func (d *Decoder) Decode(b []byte) string {
	if d.table == nil {
		if utf8.Valid(b) {
			return string(b)
		}
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) * 2)
	for _, c := range b {
		if c < 0x80 {
			sb.WriteByte(c)
		} else {
			sb.WriteRune(d.table[c-0x80])
		}
	}
	return sb.String()
}

// pt154 is the upper half of PT154 (ParaType Cyrillic-Asian, IANA "PTCP154"), the code page of
// Kazakh DBF files: Ә Ғ Қ Ң Ө Ұ Ү Һ І live in 0x80–0xBF, 0xC0–0xFF are А–я as in CP1251.
// golang.org/x/text does not have it.
var pt154 = [128]rune{
	0x0496, 0x0492, 0x04EE, 0x0493, 0x201E, 0x2026, 0x04B6, 0x04AE,
	0x04B2, 0x04AF, 0x04A0, 0x04E2, 0x04A2, 0x049A, 0x04BA, 0x04B8,
	0x0497, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x04B3, 0x04B7, 0x04A1, 0x04E3, 0x04A3, 0x049B, 0x04BB, 0x04B9,
	0x00A0, 0x040E, 0x045E, 0x0408, 0x04E8, 0x0498, 0x04B0, 0x00A7,
	0x0401, 0x00A9, 0x04D8, 0x00AB, 0x00AC, 0x04EF, 0x00AE, 0x049C,
	0x00B0, 0x04B1, 0x0406, 0x0456, 0x0499, 0x04E9, 0x00B6, 0x00B7,
	0x0451, 0x2116, 0x04D9, 0x00BB, 0x0458, 0x04AA, 0x04AB, 0x049D,
	0x0410, 0x0411, 0x0412, 0x0413, 0x0414, 0x0415, 0x0416, 0x0417,
	0x0418, 0x0419, 0x041A, 0x041B, 0x041C, 0x041D, 0x041E, 0x041F,
	0x0420, 0x0421, 0x0422, 0x0423, 0x0424, 0x0425, 0x0426, 0x0427,
	0x0428, 0x0429, 0x042A, 0x042B, 0x042C, 0x042D, 0x042E, 0x042F,
	0x0430, 0x0431, 0x0432, 0x0433, 0x0434, 0x0435, 0x0436, 0x0437,
	0x0438, 0x0439, 0x043A, 0x043B, 0x043C, 0x043D, 0x043E, 0x043F,
	0x0440, 0x0441, 0x0442, 0x0443, 0x0444, 0x0445, 0x0446, 0x0447,
	0x0448, 0x0449, 0x044A, 0x044B, 0x044C, 0x044D, 0x044E, 0x044F,
}

// upperHalf builds the 0x80–0xFF table of a single-byte x/text charmap.
func upperHalf(cm *charmap.Charmap) *[128]rune {
	var t [128]rune
	for i := range t {
		t[i] = cm.DecodeByte(byte(0x80 + i))
	}
	return &t
}

var codePages = map[string]*[128]rune{
	"UTF-8":        nil,
	"PT154":        &pt154,
	"CP1251":       upperHalf(charmap.Windows1251),
	"CP866":        upperHalf(charmap.CodePage866),
	"KOI8-R":       upperHalf(charmap.KOI8R),
	"KOI8-U":       upperHalf(charmap.KOI8U),
	"ISO-8859-1":   upperHalf(charmap.ISO8859_1),
	"ISO-8859-5":   upperHalf(charmap.ISO8859_5),
	"CP1252":       upperHalf(charmap.Windows1252),
	"CP1250":       upperHalf(charmap.Windows1250),
	"CP437":        upperHalf(charmap.CodePage437),
	"CP850":        upperHalf(charmap.CodePage850),
	"CP852":        upperHalf(charmap.CodePage852),
	"ISO-8859-2":   upperHalf(charmap.ISO8859_2),
	"CP1254":       upperHalf(charmap.Windows1254),
	"ISO-8859-15":  upperHalf(charmap.ISO8859_15),
	"MAC-CYRILLIC": upperHalf(charmap.MacintoshCyrillic),
}

// aliases maps the spellings found in .cpg files, --encoding flags and GDAL's ENCODING option
// (upper-cased, with spaces, dashes and underscores removed) to canonical names.
var aliases = map[string]string{
	"UTF8": "UTF-8", "65001": "UTF-8", "UNICODE": "UTF-8",
	"PT154": "PT154", "PTCP154": "PT154", "CP154": "PT154", "CYRILLICASIAN": "PT154", "KZ154": "PT154",
	"CP1251": "CP1251", "1251": "CP1251", "ANSI1251": "CP1251", "WINDOWS1251": "CP1251", "WIN1251": "CP1251",
	"CP866": "CP866", "866": "CP866", "OEM866": "CP866", "IBM866": "CP866", "DOS866": "CP866",
	"KOI8R": "KOI8-R", "20866": "KOI8-R", "KOI8": "KOI8-R",
	"KOI8U": "KOI8-U", "21866": "KOI8-U",
	"ISO88591": "ISO-8859-1", "88591": "ISO-8859-1", "LATIN1": "ISO-8859-1", "28591": "ISO-8859-1",
	"ISO88595": "ISO-8859-5", "88595": "ISO-8859-5", "28595": "ISO-8859-5",
	"CP1252": "CP1252", "1252": "CP1252", "ANSI1252": "CP1252", "WINDOWS1252": "CP1252",
	"CP1250": "CP1250", "1250": "CP1250", "ANSI1250": "CP1250", "WINDOWS1250": "CP1250",
	"CP1254": "CP1254", "1254": "CP1254", "ANSI1254": "CP1254", "WINDOWS1254": "CP1254",
	"CP437": "CP437", "437": "CP437", "OEM437": "CP437",
	"CP850": "CP850", "850": "CP850", "OEM850": "CP850",
	"CP852": "CP852", "852": "CP852", "OEM852": "CP852",
	"ISO88592": "ISO-8859-2", "88592": "ISO-8859-2",
	"ISO885915": "ISO-8859-15", "885915": "ISO-8859-15", "LATIN9": "ISO-8859-15",
	"MACCYRILLIC": "MAC-CYRILLIC", "10007": "MAC-CYRILLIC",
}

func normalizeEncodingName(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "", "-", "", "_", "", ".", "").Replace(s)
}

// LookupEncoding returns the decoder for an encoding name such as "cp1251", "ANSI 1251", "UTF-8",
// "866", "KOI8-R", "latin1" or "PT154".
func LookupEncoding(name string) (*Decoder, error) {
	canon, ok := aliases[normalizeEncodingName(name)]
	if !ok {
		return nil, geoportal.Errorf(geoportal.EINVALID, "unknown encoding %q (known: UTF-8, CP1251, CP866, KOI8-R, ISO-8859-1, PT154, CP1252, CP1250, …)", name)
	}
	return &Decoder{Name: canon, table: codePages[canon]}, nil
}

// ldidEncodings maps the DBF language driver byte (offset 29) to a code page, as GDAL reads it.
var ldidEncodings = map[byte]string{
	0x01: "CP437", 0x02: "CP850", 0x03: "CP1252", 0x57: "ISO-8859-1", 0x58: "CP1252", 0x59: "CP1252",
	0x64: "CP852", 0x65: "CP866", 0x26: "CP866", 0x1B: "CP437", 0x37: "CP850",
	0x6A: "CP437", 0xC8: "CP1250", 0xC9: "CP1251", 0xCA: "CP1254", 0x96: "MAC-CYRILLIC",
}

// EncodingSource says where the DBF encoding came from.
const (
	EncodingFromFlag    = "flag"
	EncodingFromCPG     = "cpg"
	EncodingFromLDID    = "dbf language byte"
	EncodingFromDefault = "default"
)

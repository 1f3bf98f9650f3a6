package webui

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The mock's icon: a white E on the brand colour's rounded square. Browsers ask for /favicon.ico
// whatever the page says; the layout points at the SVG, which stays sharp at any size.
const (
	// FaviconSVGPath is where the SVG icon is served (the layout links to it).
	FaviconSVGPath = "/favicon.svg"
	faviconSVG     = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">` +
		`<rect width="32" height="32" rx="6" fill="#3b2db5"/><path fill="#fff" d="M9 8h14v4H13v2h8v4h-8v2h10v4H9z"/></svg>`
	faviconSize = 32
)

// eBars are the E of the icon as rectangles (x0, y0, x1, y1), the SVG path's shape.
var eBars = [][4]int{{9, 8, 13, 24}, {9, 8, 23, 12}, {9, 14, 21, 18}, {9, 20, 23, 24}}

// icoFile is the icon as a Windows icon file holding one 32×32 PNG (which every browser reads).
func icoFile() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, faviconSize, faviconSize))
	brand := color.NRGBA{0x3b, 0x2d, 0xb5, 0xff}
	for y := range faviconSize {
		for x := range faviconSize {
			if inRoundedSquare(x, y, faviconSize, 6) {
				img.SetNRGBA(x, y, brand)
			}
		}
	}
	for _, r := range eBars {
		for y := r[1]; y < r[3]; y++ {
			for x := r[0]; x < r[2]; x++ {
				img.SetNRGBA(x, y, color.NRGBA{0xff, 0xff, 0xff, 0xff})
			}
		}
	}
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, img); err != nil {
		panic(err) // an in-memory image always encodes
	}
	var ico bytes.Buffer
	// ICONDIR (reserved, type 1 = icon, one image), then its ICONDIRENTRY: 32×32 (0 colours,
	// reserved, 1 plane, 32 bits), the PNG's size and its offset after these 6+16 bytes.
	_ = binary.Write(&ico, binary.LittleEndian, [3]uint16{0, 1, 1})
	ico.Write([]byte{faviconSize, faviconSize, 0, 0})
	_ = binary.Write(&ico, binary.LittleEndian, [2]uint16{1, 32})
	_ = binary.Write(&ico, binary.LittleEndian, [2]uint32{uint32(pngData.Len()), 6 + 16})
	ico.Write(pngData.Bytes())
	return ico.Bytes()
}

// icon is a favicon's answer: its body, type and ETag.
type icon struct {
	body      []byte
	typ, etag string
}

func newIcon(body []byte, typ string) icon {
	sum := sha256.Sum256(body)
	return icon{body: body, typ: typ, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
}

// icons are the two answers, drawn and hashed once, when first asked for.
var icons = sync.OnceValue(func() [2]icon {
	return [2]icon{newIcon(icoFile(), "image/x-icon"), newIcon([]byte(faviconSVG), "image/svg+xml")}
})

// inRoundedSquare reports whether pixel (x, y) lies in a size×size square with corners of radius r.
func inRoundedSquare(x, y, size, r int) bool {
	cx, cy := min(max(x, r), size-1-r), min(max(y, r), size-1-r)
	dx, dy := x-cx, y-cy
	return dx*dx+dy*dy <= r*r
}

// Favicon serves the icon: /favicon.ico as an ICO, FaviconSVGPath as SVG, cacheable for a day
// and revalidated by ETag.
var Favicon http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	ic := icons()[0]
	if strings.HasSuffix(r.URL.Path, ".svg") {
		ic = icons()[1]
	}
	h := w.Header()
	h.Set("Content-Type", ic.typ)
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("ETag", ic.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(ic.body))
})

package web

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
)

// The reports console for department staff: server-rendered pages with plain forms (no script),
// in kk/ru/en, sharing the sign-in pages' header and style.

//go:embed staffpages
var staffPagesFS embed.FS

var staffTemplates = template.Must(template.Must(template.New("").Funcs(template.FuncMap{
	"time": func(t time.Time) string { return t.In(almaty).Format("2006-01-02 15:04") },
	"ptime": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.In(almaty).Format("2006-01-02")
	},
}).ParseFS(authPagesFS, "authpages/head.html")).ParseFS(staffPagesFS, "staffpages/*.html"))

// almaty is the city's clock (Aktobe keeps UTC+5 all year).
var almaty = time.FixedZone("UTC+5", 5*3600)

var staffText = map[string]map[string]string{
	"en": {"stats": "Citizen reports: statistics", "total": "Reports", "open": "open", "median": "Median time to resolve", "key": "Group",
		"by_category": "By category", "by_district": "By district", "by_month": "By month", "by_status": "By status",
		"console": "Reports console", "filter": "Filter", "status": "Status", "any": "any", "category": "Category",
		"department": "Department", "older_than": "Older than, days", "show": "Show", "export_csv": "Export CSV",
		"reports": "Reports", "select": "Select", "age": "Age", "address": "Address", "description": "Description",
		"support": "Residents affected", "reporter": "Reporter (private)", "days": "d", "overdue": "overdue",
		"none": "No reports match.", "bulk": "Change the selected reports", "new_status": "New status",
		"comment": "Public comment", "apply": "Apply", "reported": "Reported", "due": "due", "hidden": "(hidden from the public)",
		"answers": "Answers", "duplicate_of": "Duplicate of", "photo": "Photo", "change_status": "Change status",
		"moderation": "Moderation", "hide_text": "Hide the text from the public", "hide_photo": "Hide photo",
		"ban": "Ban this reporter", "reason": "Reason", "history": "History", "when": "When", "who": "Who",
		"confirmed": "confirmed", "unconfirmed": "not confirmed",
		"saved": "Saved.", "bulk_done": "Changed %d of %d reports.",
		"st_new": "New", "st_accepted": "Accepted", "st_in_progress": "In progress", "st_resolved": "Resolved",
		"st_rejected": "Rejected", "st_duplicate": "Duplicate"},
	"ru": {"stats": "Обращения граждан: статистика", "total": "Обращений", "open": "открыто", "median": "Медианный срок решения", "key": "Группа",
		"by_category": "По категориям", "by_district": "По районам", "by_month": "По месяцам", "by_status": "По статусам",
		"console": "Обращения граждан: пульт", "filter": "Фильтр", "status": "Статус", "any": "все", "category": "Категория",
		"department": "Отдел", "older_than": "Старше, дней", "show": "Показать", "export_csv": "Выгрузить CSV",
		"reports": "Обращения", "select": "Выбрать", "age": "Возраст", "address": "Адрес", "description": "Описание",
		"support": "Поддержали", "reporter": "Заявитель (скрыто)", "days": "дн.", "overdue": "просрочено",
		"none": "Обращений нет.", "bulk": "Изменить выбранные", "new_status": "Новый статус",
		"comment": "Публичный комментарий", "apply": "Применить", "reported": "Подано", "due": "срок", "hidden": "(скрыто от публики)",
		"answers": "Ответы", "duplicate_of": "Дубликат обращения", "photo": "Фото", "change_status": "Изменить статус",
		"moderation": "Модерация", "hide_text": "Скрыть текст от публики", "hide_photo": "Скрыть фото",
		"ban": "Заблокировать заявителя", "reason": "Причина", "history": "История", "when": "Когда", "who": "Кто",
		"confirmed": "подтверждён", "unconfirmed": "не подтверждён",
		"saved": "Сохранено.", "bulk_done": "Изменено %d из %d обращений.",
		"st_new": "Новое", "st_accepted": "Принято", "st_in_progress": "В работе", "st_resolved": "Решено",
		"st_rejected": "Отклонено", "st_duplicate": "Дубликат"},
	"kk": {"stats": "Азаматтардың өтініштері: статистика", "total": "Өтініштер", "open": "ашық", "median": "Шешудің медиандық мерзімі", "key": "Топ",
		"by_category": "Санаттар бойынша", "by_district": "Аудандар бойынша", "by_month": "Айлар бойынша", "by_status": "Мәртебелер бойынша",
		"console": "Азаматтардың өтініштері: пульт", "filter": "Сүзгі", "status": "Мәртебе", "any": "барлығы", "category": "Санат",
		"department": "Бөлім", "older_than": "Ескі, күн", "show": "Көрсету", "export_csv": "CSV жүктеу",
		"reports": "Өтініштер", "select": "Таңдау", "age": "Мерзімі", "address": "Мекенжай", "description": "Сипаттама",
		"support": "Қолдағандар", "reporter": "Өтініш беруші (жасырын)", "days": "күн", "overdue": "мерзімі өтті",
		"none": "Өтініш жоқ.", "bulk": "Таңдалғандарды өзгерту", "new_status": "Жаңа мәртебе",
		"comment": "Жария түсініктеме", "apply": "Қолдану", "reported": "Берілген күні", "due": "мерзімі", "hidden": "(жариядан жасырылған)",
		"answers": "Жауаптар", "duplicate_of": "Қайталанған өтініш", "photo": "Фото", "change_status": "Мәртебені өзгерту",
		"moderation": "Модерация", "hide_text": "Мәтінді жариядан жасыру", "hide_photo": "Фотоны жасыру",
		"ban": "Өтініш берушіні бұғаттау", "reason": "Себебі", "history": "Тарих", "when": "Қашан", "who": "Кім",
		"confirmed": "расталған", "unconfirmed": "расталмаған",
		"saved": "Сақталды.", "bulk_done": "%d / %d өтініш өзгертілді.",
		"st_new": "Жаңа", "st_accepted": "Қабылданды", "st_in_progress": "Орындалуда", "st_resolved": "Шешілді",
		"st_rejected": "Қабылданбады", "st_duplicate": "Қайталама"},
}

// maxBulk is how many reports one bulk change may name.
const maxBulk = 500

var workflowStatuses = []string{reports.StatusNew, reports.StatusAccepted, reports.StatusInProgress,
	reports.StatusResolved, reports.StatusRejected, reports.StatusDuplicate}

type staffPage struct {
	pageData
	S              map[string]string
	Services       []reports.Service
	Departments    map[string]layers.Titles
	Statuses       []string
	AllDepartments bool
	Filter         struct{ Status, Service, Department, OlderThan string }
	Query          string
	Reports        []staffReport
	// one report
	Report  reports.Report
	Private reports.Private
	History []reports.HistoryEntry
	Photos  []int
	Next    []string
}

// Name picks the page language's title.
func (p staffPage) Name(t layers.Titles) string {
	switch p.Lang {
	case "kk":
		return t.KK
	case "en":
		return t.EN
	}
	return t.RU
}

// ServiceName is a category's title in the page language.
func (p staffPage) ServiceName(code string) string {
	for _, sv := range p.Services {
		if sv.Code == code {
			return p.Name(sv.Name)
		}
	}
	return code
}

// newStaffPage checks the visitor may work on reports: anonymous visitors go to sign in, other
// roles get a 403 page.
func (s *Server) newStaffPage(w http.ResponseWriter, r *http.Request) (staffPage, reports.Actor, bool) {
	p := staffPage{pageData: s.newPage(r), Statuses: workflowStatuses}
	p.S = staffText[p.Lang]
	a, err := s.reportActor(r)
	if err != nil || p.User == nil {
		if geoportal.ErrorCode(err) == geoportal.EFORBIDDEN {
			p.Error = p.T["forbidden"]
			s.render(w, r, http.StatusForbidden, "error.html", p.pageData)
		} else if r.Method == http.MethodGet {
			http.Redirect(w, r, "/login?lang="+p.Lang+"&next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		} else {
			s.guard.Refuse(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in required"))
		}
		return p, a, false
	}
	p.AllDepartments = a.AllDepartments
	var err2 error
	if p.Services, err = s.Reports.Services(r.Context()); err == nil {
		p.Departments, err2 = s.Reports.Departments(r.Context())
	}
	if err != nil || err2 != nil {
		s.reply.Error(w, r, geoportalFirst(err, err2))
		return p, a, false
	}
	p.Flash = staffFlash(p.S, r.URL.Query())
	return p, a, true
}

// staffFlash is the console's message for ?msg=CODE after a form: only known codes, in the page
// language, so that a link cannot make the city's page say what it likes. An unknown code shows
// nothing. Codes: saved; bulk_done with done and of (numbers of reports).
func staffFlash(text map[string]string, q url.Values) string {
	switch q.Get("msg") {
	case "saved":
		return text["saved"]
	case "bulk_done":
		done, err1 := strconv.Atoi(q.Get("done"))
		of, err2 := strconv.Atoi(q.Get("of"))
		if err1 != nil || err2 != nil || done < 0 || of < 1 || done > of || of > maxBulk {
			return ""
		}
		return fmt.Sprintf(text["bulk_done"], done, of)
	}
	return ""
}

func geoportalFirst(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (s *Server) renderStaff(w http.ResponseWriter, r *http.Request, status int, name string, p staffPage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := staffTemplates.ExecuteTemplate(w, name, p); err != nil {
		s.Logger.Error("render page", "page", name, "error", err)
	}
}

func (s *Server) handleStaffConsole(w http.ResponseWriter, r *http.Request) {
	p, a, ok := s.newStaffPage(w, r)
	if !ok {
		return
	}
	s.showStaffConsole(w, r, p, a, http.StatusOK)
}

// showStaffConsole renders the console list with status (a refused bulk change shows its error
// here, with its 4xx status).
func (s *Server) showStaffConsole(w http.ResponseWriter, r *http.Request, p staffPage, a reports.Actor, status int) {
	q := r.URL.Query()
	p.Filter.Status, p.Filter.Service, p.Filter.Department, p.Filter.OlderThan =
		q.Get("status"), q.Get("service_code"), q.Get("department"), q.Get("older_than_days")
	for _, k := range []string{"lang", "msg", "done", "of"} {
		q.Del(k)
	}
	p.Query = q.Encode()
	f, err := s.staffFilter(r, a)
	if err == nil {
		p.Reports, err = s.staffReports(r, f)
	}
	if err != nil {
		if reply.Status(err) >= 500 {
			s.reply.Error(w, r, err)
			return
		}
		p.Error, status = geoportal.ErrorMessage(err), reply.Status(err)
	}
	s.renderStaff(w, r, status, "reports.html", p)
}

func (s *Server) handleStaffReportPage(w http.ResponseWriter, r *http.Request) {
	p, a, ok := s.newStaffPage(w, r)
	if !ok {
		return
	}
	s.showStaffReport(w, r, p, a, http.StatusOK)
}

func (s *Server) showStaffReport(w http.ResponseWriter, r *http.Request, p staffPage, a reports.Actor, status int) {
	id, err := reportID(r)
	if err == nil {
		p.Report, err = s.Reports.Get(r.Context(), id)
	}
	if err == nil && !a.AllDepartments && p.Report.Department != a.Department {
		err = geoportal.Errorf(geoportal.EFORBIDDEN, "report %d belongs to department %s", id, p.Report.Department)
	}
	if err == nil {
		p.Private, err = s.Reports.GetPrivate(r.Context(), id)
	}
	if err == nil {
		p.History, err = s.Reports.History(r.Context(), id, true)
	}
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	for n := 1; n <= p.Report.Photos; n++ {
		p.Photos = append(p.Photos, n)
	}
	p.Next = reports.NextStatuses(p.Report.Status)
	s.renderStaff(w, r, status, "report.html", p)
}

// staffForm runs a console form: back to the page with "saved" on success, or the page with the
// error (4xx) when the change is refused.
func (s *Server) staffForm(w http.ResponseWriter, r *http.Request, onReport bool, action func(a reports.Actor) (string, error)) {
	p, a, ok := s.newStaffPage(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.reply.Error(w, r, guard.BodyError(err))
		return
	}
	back, err := action(a)
	if err != nil {
		if reply.Status(err) >= 500 {
			s.reply.Error(w, r, err)
			return
		}
		p.Error = geoportal.ErrorMessage(err)
		if onReport {
			s.showStaffReport(w, r, p, a, reply.Status(err))
		} else {
			s.showStaffConsole(w, r, p, a, reply.Status(err))
		}
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func (s *Server) handleStaffStatusForm(w http.ResponseWriter, r *http.Request) {
	s.staffForm(w, r, true, func(a reports.Actor) (string, error) {
		id, err := reportID(r)
		if err != nil {
			return "", err
		}
		var dup int64
		if v := r.PostForm.Get("duplicate_of"); v != "" {
			if dup, err = strconv.ParseInt(v, 10, 64); err != nil {
				return "", geoportal.Errorf(geoportal.EINVALID, "duplicate_of must be a report number")
			}
		}
		_, err = s.Reports.ChangeStatus(r.Context(), id, reports.Change{Status: r.PostForm.Get("status"),
			Comment: r.PostForm.Get("comment"), DuplicateOf: dup}, a)
		return "/staff/reports/" + strconv.FormatInt(id, 10) + "?msg=saved&lang=" + pageLang(r), err
	})
}

func (s *Server) handleStaffModerateForm(w http.ResponseWriter, r *http.Request) {
	s.staffForm(w, r, true, func(a reports.Actor) (string, error) {
		id, err := reportID(r)
		if err != nil {
			return "", err
		}
		hide := r.PostForm.Get("hide_text") == "true"
		m := reports.Moderation{HideText: &hide, Ban: r.PostForm.Get("ban") == "true", Reason: r.PostForm.Get("reason")}
		for _, v := range r.PostForm["hide_photo"] {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > reports.MaxPhotos {
				return "", geoportal.Errorf(geoportal.EINVALID, "hide_photo %q is not a photo number", v)
			}
			m.HidePhotos = append(m.HidePhotos, n)
		}
		return "/staff/reports/" + strconv.FormatInt(id, 10) + "?msg=saved&lang=" + pageLang(r), s.Reports.Moderate(r.Context(), id, m, a)
	})
}

func (s *Server) handleStaffBulkForm(w http.ResponseWriter, r *http.Request) {
	s.staffForm(w, r, false, func(a reports.Actor) (string, error) {
		ids := r.PostForm["id"]
		if len(ids) == 0 || len(ids) > maxBulk {
			return "", geoportal.Errorf(geoportal.EINVALID, "select 1 to %d reports", maxBulk)
		}
		status := r.PostForm.Get("status")
		if !slices.Contains(workflowStatuses, status) {
			return "", geoportal.Errorf(geoportal.EINVALID, "status %q is not a workflow status", status)
		}
		done := 0
		for _, v := range ids {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return "", geoportal.Errorf(geoportal.EINVALID, "report %q is not a number", v)
			}
			_, err = s.Reports.ChangeStatus(r.Context(), id, reports.Change{Status: status, Comment: r.PostForm.Get("comment")}, a)
			if err == nil {
				done++
			} else if reply.Status(err) >= 500 {
				return "", err
			}
		}
		return "/staff/reports?lang=" + pageLang(r) + "&msg=bulk_done&done=" + strconv.Itoa(done) + "&of=" + strconv.Itoa(len(ids)), nil
	})
}

func (s *Server) handleStaffCSS(w http.ResponseWriter, r *http.Request) {
	b, err := staffPagesFS.ReadFile("staffpages/staff.css")
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

type chartBar struct {
	Label                    string
	Total, Open              int
	Y, TotalW, OpenW, LabelX int
}

type chart struct {
	ID, Title string
	Height    int
	Bars      []chartBar
}

type statsPage struct {
	staffPage
	Stats       reports.Stats
	Total, Open int
	Charts      []chart
}

// handleReportStatsPage is the public statistics page: bar charts drawn as SVG on the server (no
// script), with the same numbers in a table for screen readers.
func (s *Server) handleReportStatsPage(w http.ResponseWriter, r *http.Request) {
	p := statsPage{staffPage: staffPage{pageData: s.newPage(r)}}
	p.S = staffText[p.Lang]
	var err error
	if p.Services, err = s.Reports.Services(r.Context()); err == nil {
		p.Stats, err = s.Reports.Stats(r.Context())
	}
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	for _, c := range p.Stats.ByStatus {
		p.Total += c.Total
		p.Open += c.Open
	}
	label := map[string]func(string) string{
		"category": p.ServiceName,
		"status":   func(k string) string { return p.S["st_"+k] },
	}
	for _, g := range []struct {
		id     string
		counts []reports.Count
		name   func(string) string
	}{
		{"category", p.Stats.ByCategory, label["category"]},
		{"district", p.Stats.ByDistrict, nil},
		{"month", p.Stats.ByMonth, nil},
		{"status", p.Stats.ByStatus, label["status"]},
	} {
		if len(g.counts) == 0 {
			continue
		}
		c := chart{ID: g.id, Title: p.S["by_"+g.id], Height: 24*len(g.counts) + 4}
		most := 1
		for _, n := range g.counts {
			most = max(most, n.Total)
		}
		for i, n := range g.counts {
			b := chartBar{Label: n.Key, Total: n.Total, Open: n.Open, Y: 24 * i,
				TotalW: 300 * n.Total / most, OpenW: 300 * n.Open / most}
			if g.name != nil {
				b.Label = g.name(n.Key)
			}
			b.LabelX = 226 + b.TotalW
			c.Bars = append(c.Bars, b)
		}
		p.Charts = append(p.Charts, c)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=60")
	if err := staffTemplates.ExecuteTemplate(w, "stats.html", p); err != nil {
		s.Logger.Error("render page", "page", "stats.html", "error", err)
	}
}

import Vapor
import PLSDomain

extension RouteGroups {
    /// The working-day calendar: due dates, each year's holidays, and the holiday page.
    func calendar() {
        api.get("calendar", "due", use: CalendarController.apiDue)
        api.get("calendar", ":year", use: CalendarController.apiGet)
        api.put("calendar", ":year", use: CalendarController.apiPut)
        admin.get("calendar", use: CalendarPages.calendar)
        admin.get("calendar", ":year", use: CalendarPages.yearForm)
        admin.post("calendar", ":year", use: CalendarPages.saveYear)
    }
}

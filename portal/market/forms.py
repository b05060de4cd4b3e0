"""Forms of the commissioners' what-if pages (issue 13 §1): shape only (the service checks the limits)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import FieldList, Form, FormField, IntegerField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from portal import geo
from portal.forms import MultiCheckboxField, PortalForm, _refuse_control_characters
from portal.market.scenarios import FEE_MAX_GBP_WEEK, ITEMS_MAX, KIND_LABELS, NAME_MAX, PLACES_MAX, RUNS
from portal.matching import vocabulary as vocab


class _WholeNumber(IntegerField):
    widget = GovTextInput()

    def process_formdata(self, valuelist):
        try:
            super().process_formdata([(v or "").strip() for v in valuelist])
        except ValueError:
            raise ValueError(f"{self.label.text} must be a whole number, like 2") from None


class _Pounds(StringField):
    """Optional pounds a week; '£1,250.50' is read as 1250.5."""

    widget = GovTextInput()

    def process_formdata(self, valuelist):
        self.data = None
        raw = ((valuelist or [""])[0] or "").replace("£", "").replace(",", "").strip()
        self.raw_text = raw
        if not raw:
            return
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ValueError(f"{self.label.text} must be a number, like 850 or 850.50") from None
        if not value.is_finite() or value < 0 or value > FEE_MAX_GBP_WEEK:
            raise ValueError(f"{self.label.text} must be between £0 and £{FEE_MAX_GBP_WEEK:,} a week")
        self.data = float(round(value, 2))

    def _value(self):
        return self.raw_data[0] if self.raw_data else ("" if self.data is None else f"{self.data:g}")


LA_CHOICES = [("", "Choose a local authority")] + [(la.code, la.name) for la in geo.WM_LOCAL_AUTHORITIES]


class _ItemMeta:
    """Control characters are refused in every field of an item, as PortalForm does for its own fields."""

    def bind_field(self, form, unbound_field, options):
        field = unbound_field.bind(form=form, **options)
        field.validators = [_refuse_control_characters, *field.validators]
        return field


class ProvisionItemForm(Form):
    """One item of hypothetical provision (a row of the scenario form)."""

    class Meta(_ItemMeta, Form.Meta):
        pass

    places = _WholeNumber("Number of places", validators=[
        InputRequired("Enter the number of places"),
        NumberRange(1, PLACES_MAX, f"Number of places must be between 1 and {PLACES_MAX}")])
    kind = SelectField("Placement type", choices=[("", "Choose a placement type"), *KIND_LABELS.items()],
                       validators=[InputRequired("Choose a placement type")], widget=GovSelect())
    la = SelectField("Local authority", choices=LA_CHOICES, validators=[Optional()], widget=GovSelect())
    postcode = StringField("Or a postcode", validators=[Length(max=10, message="Enter a real postcode")],
                           widget=GovTextInput())
    age_min = _WholeNumber("Youngest age", default=0, validators=[
        InputRequired("Enter the youngest age"), NumberRange(0, 17, "Youngest age must be between 0 and 17")])
    age_max = _WholeNumber("Oldest age", default=17, validators=[
        InputRequired("Enter the oldest age"), NumberRange(0, 17, "Oldest age must be between 0 and 17")])
    sexes = MultiCheckboxField("Sexes", choices=list(vocab.SEXES.items()), default=list(vocab.SEXES))
    needs_met = MultiCheckboxField("Needs it can meet", choices=list(vocab.NEEDS.items()))
    risks_managed = MultiCheckboxField("Risks it can manage", choices=list(vocab.RISKS.items()))
    fee_gbp_week = _Pounds("Weekly fee (optional)")

    def validate_sexes(self, field):
        if not field.data:
            raise ValidationError("Choose at least one sex")

    def validate_age_max(self, field):
        if self.age_min.data is not None and field.data is not None and field.data < self.age_min.data:
            raise ValidationError("Oldest age must be the same as or more than the youngest age")

    def validate_postcode(self, field):
        """An LA or a postcode (resolved from the ONS data, as everywhere in the portal); a postcode must be in the
        region, and inside the LA if both are given."""
        field.lookup = None
        raw = (field.data or "").strip()
        if not raw:
            if not self.la.data:
                raise ValidationError("Choose a local authority or enter a postcode")
            return
        try:
            field.lookup = geo.lookup(raw)
        except geo.PostcodeError as error:
            raise ValidationError(str(error)) from None
        field.data = field.lookup.postcode
        if not geo.is_west_midlands(field.lookup.la_code) or field.lookup.la_code not in dict(LA_CHOICES):
            raise ValidationError("Enter a postcode in the West Midlands")
        if self.la.data and self.la.data != field.lookup.la_code:
            raise ValidationError(f"{field.data} is not in {dict(LA_CHOICES)[self.la.data]}: "
                                  "choose its local authority or leave it blank")

    def validate_kind(self, field):
        if field.data == "supported" and self.age_max.data is not None and self.age_max.data < 16:
            raise ValidationError("Supported accommodation is for 16 and 17 year olds: set the oldest age to 16 "
                                  "or 17")


class ScenarioForm(PortalForm):
    """A named scenario of one or more items. `action` says what the button asked for: save, add an item, or
    remove item N (the rows come back as typed)."""

    name = StringField("Scenario name", validators=[
        InputRequired("Enter a name for the scenario"),
        Length(max=NAME_MAX, message=f"Scenario name must be {NAME_MAX} characters or fewer")],
        widget=GovTextInput())
    items = FieldList(FormField(ProvisionItemForm), min_entries=1, max_entries=ITEMS_MAX)

    def add_item(self) -> bool:
        """One more (blank) item row; False when the form already has as many as a scenario may."""
        if len(self.items.entries) >= ITEMS_MAX:
            return False
        self.items.append_entry()
        return True

    def remove_item(self, position: int) -> None:
        """Drop the item at `position` (the others stay as typed); a scenario always shows at least one row."""
        if 0 <= position < len(self.items.entries):
            self.items.entries.pop(position)
        if not self.items.entries:
            self.items.append_entry()


class RunForm(PortalForm):
    run = RadioField("What to run it on", choices=list(RUNS.items()),
                     validators=[InputRequired("Choose what to run the scenario on")], widget=GovRadioInput())
    submit = SubmitField("Run the scenario", widget=GovSubmitInput())


def item_records(form: ScenarioForm) -> list[dict]:
    """The valid form's items as the scenario keeps them: an item given by LA alone sits at the LA's centre, one
    given by postcode at the postcode (and in its LA)."""
    from portal.market.scenarios import item_record, la_centre

    records = []
    for entry in form.items.entries:
        item = entry.form
        found = getattr(item.postcode, "lookup", None)
        if found is not None:
            la, postcode, easting, northing = found.la_code, found.postcode, found.easting, found.northing
        else:
            la = item.la.data
            postcode = None
            _centre, easting, northing = la_centre(la)
        records.append(item_record(
            places=item.places.data, kind=item.kind.data, la=la, postcode=postcode, easting=easting,
            northing=northing, age_min=item.age_min.data, age_max=item.age_max.data, sexes=item.sexes.data,
            needs_met=item.needs_met.data or (), risks_managed=item.risks_managed.data or (),
            fee_gbp_week=item.fee_gbp_week.data))
    return records

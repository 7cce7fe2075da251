// Health: "find my clinic" by address or a point on the map (see mine.js).
import { mineExtension } from './mine.js';

mineExtension({
  name: 'clinic',
  kind: 'clinic',
  api: '/api/modules/clinics/mine',
  areas: 'clinic_areas',
  facilities: 'clinics',
  color: '#d81b60',
  strings: {
    title: { kk: 'Менің емханам', ru: 'Моя поликлиника', en: 'Find my clinic' },
    intro: {
      kk: 'Мекенжайыңызды енгізіңіз немесе картадан нүктені таңдаңыз: сіз тіркелетін емхана мен оның аумағы көрсетіледі.',
      ru: 'Введите адрес или выберите точку на карте: покажем поликлинику, к которой вы относитесь, и её участок.',
      en: 'Enter your address or pick a point on the map to see the clinic you belong to and its area.',
    },
    answer: { kk: 'Сіздің емханаңыз:', ru: 'Ваша поликлиника:', en: 'Your clinic:' },
  },
});

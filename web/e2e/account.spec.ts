// The account page: a password change signs the other devices out (their page returns to the login), and
// "Log out everywhere" signs out every device, this one included.
import { expect, expectAccessible, logIn, signUp, snap, test, uniqueName } from './fixtures';

const PASSWORD = 'a long enough password';
const NEW_PASSWORD = 'another long enough one';

test('change the password, then log out everywhere', async ({ page, browser }) => {
  const name = uniqueName('dora');
  await signUp(page, name, PASSWORD);

  // The same account on a second device.
  const ctx = await browser.newContext();
  const laptop = await ctx.newPage();
  await laptop.goto('/login');
  await logIn(laptop, name, PASSWORD);
  await expect(laptop.getByRole('heading', { name: 'Swarms', level: 1 })).toBeVisible();

  await page.getByRole('link', { name: 'Account' }).click();
  await expect(page.getByRole('heading', { name: 'Account', level: 1 })).toBeVisible();
  await expectAccessible(page, 'account page');
  // A common password is refused with a reason; a wrong current password too.
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByLabel('New password', { exact: true }).fill('password1');
  await page.getByLabel('New password again').fill('password1');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toContainText('one of the most common');
  await page.getByLabel('Current password').fill('not the password');
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('New password again').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toHaveText('The current password is wrong.');
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Password changed' })).toBeVisible();
  await snap(page, 'password-changed');

  // The other device was signed out: its next request returns it to the login page.
  await laptop.reload();
  await expect(laptop.getByRole('heading', { name: 'Log in' })).toBeVisible();
  await logIn(laptop, name, PASSWORD);
  await expect(laptop.getByRole('alert')).toHaveText('Wrong username or password.');
  await logIn(laptop, name, NEW_PASSWORD);
  await expect(laptop.getByRole('heading', { name: 'Swarms', level: 1 })).toBeVisible();

  // Log out everywhere, from this device: both end.
  await page.getByRole('button', { name: 'Log out everywhere' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Log out everywhere' }).click();
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
  await laptop.reload();
  await expect(laptop.getByRole('heading', { name: 'Log in' })).toBeVisible();
  await ctx.close();
});

import { describeExample } from '../readme/describe-example';

describeExample('vit-teacher-tokens');
